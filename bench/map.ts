// Map scenarios: the authenticated sparse Merkle map of libs/merkle/src/map.

/** What the map scenarios need from a map implementation. Keys and values are 32 bytes. */
export interface MapBenchAdapter {
  readonly name: string;
  /** Empty map. */
  create(): unknown;
  /** Inserts/overwrites a batch of entries, returning the (possibly new) map. */
  insertBatch(map: unknown, keys: Uint8Array[], values: Uint8Array[]): unknown;
  /** Membership proof of a present key (must include whatever the verifier needs). */
  prove(map: unknown, key: Uint8Array): unknown;
  /** Non-membership proof of an absent key. */
  proveAbsent(map: unknown, key: Uint8Array): unknown;
  /** Number of keys whose values differ between two maps. */
  diffCount(a: unknown, b: unknown): number;
}

/** The project's map. */
export async function loadMapAdapter(): Promise<MapBenchAdapter> {
  const mod = await import('@merklesync/merkle');
  // One store, versions as roots: a "map" handed around by the bench is a root hash; old roots stay readable.
  const m = new mod.SparseMerkleMap({ suite: 'sha256' });
  return {
    name: 'merklesync map',
    create: () => m.emptyRoot,
    insertBatch: (root, keys, values) =>
      m.update(
        root as Uint8Array,
        keys.map((key, i) => ({ key, value: values[i]! })),
      ),
    prove: (root, key) => m.proveMembership(root as Uint8Array, key),
    proveAbsent: (root, key) => m.proveNonMembership(root as Uint8Array, key),
    diffCount: (a, b) => m.diff(a as Uint8Array, b as Uint8Array).length,
  };
}
