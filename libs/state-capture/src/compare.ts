/** The differences of one table between a claimed and a calculated state. */
export interface TableDiff {
  readonly table: string;
  readonly claimedRoot: Uint8Array;
  readonly calculatedRoot: Uint8Array;
  /** Keys whose leaf differs (null leaf = row absent on that side), ordered by map key. */
  readonly keys: readonly { readonly mapKey: Uint8Array; readonly claimedLeaf: Uint8Array | null; readonly calculatedLeaf: Uint8Array | null }[];
}

interface _Side {
  readonly root: Uint8Array;
  /** map key hex → leaf (null: absent). */
  readonly leaves: ReadonlyMap<string, Uint8Array | null>;
}

const _eq = (a: Uint8Array | null, b: Uint8Array | null): boolean => (a === null || b === null ? a === b : Buffer.from(a).equals(b));

/**
 * Names, per table, the keys whose leaves differ. Tables present on one side only count with every key of theirs.
 * @example compareCommitments(claimed, calculated).map((d) => d.table)
 */
export function compareCommitments(claimed: ReadonlyMap<string, _Side>, calculated: ReadonlyMap<string, _Side>, emptyRoot: Uint8Array): TableDiff[] {
  const out: TableDiff[] = [];
  const names = [...new Set([...claimed.keys(), ...calculated.keys()])].sort();
  for (const table of names) {
    const a = claimed.get(table);
    const b = calculated.get(table);
    const keys = [...new Set([...(a?.leaves.keys() ?? []), ...(b?.leaves.keys() ?? [])])].sort();
    const diffs = [];
    for (const k of keys) {
      const x = a?.leaves.get(k) ?? null;
      const y = b?.leaves.get(k) ?? null;
      if (!_eq(x, y)) diffs.push({ mapKey: Uint8Array.from(Buffer.from(k, 'hex')), claimedLeaf: x, calculatedLeaf: y });
    }
    const ra = a?.root ?? emptyRoot;
    const rb = b?.root ?? emptyRoot;
    if (diffs.length > 0 || !_eq(ra, rb)) out.push({ table, claimedRoot: ra, calculatedRoot: rb, keys: diffs });
  }
  return out;
}
