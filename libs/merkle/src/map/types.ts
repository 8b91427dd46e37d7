/** One key/value of a map; `value` null means "absent" (in a multiproof) or "delete" (in an update). */
export interface MapEntry {
  readonly key: Uint8Array;
  readonly value: Uint8Array | null;
}

/**
 * The path from the root towards a key: `bits[i]` is the split bit of the i-th branch from the root and
 * `siblings[i]` the hash of its child on the side the key does NOT take. The side taken is never sent:
 * the verifier reads it from the key's own bit, which is what makes proofs unforgeable across keys.
 */
export interface MapPath {
  readonly bits: readonly number[];
  readonly siblings: readonly Uint8Array[];
}

/** Proof that `key` maps to `value`: the path ends at the leaf (key, value). */
export type MapMembershipProof = MapPath;

/**
 * Proof that `key` is absent: the path `key` would follow ends at a leaf with a different key,
 * or (`leaf` null, empty path) the map is empty.
 */
export interface MapNonMembershipProof extends MapPath {
  readonly leaf: { readonly key: Uint8Array; readonly value: Uint8Array } | null;
}

/**
 * One item of a multiproof's pre-order node list:
 * - `hash`: an opaque subtree no queried key enters;
 * - `branch`: a branch splitting at `bit`; its left then right subtrees follow;
 * - `entry`: the leaf of the one present queried key routed here (key and value come from the entries);
 * - `leaf`: a leaf given in full, where only absent keys end;
 * - `empty`: the whole map is empty (only as the sole node).
 */
export type MapMultiNode =
  | { readonly type: 'hash'; readonly hash: Uint8Array }
  | { readonly type: 'branch'; readonly bit: number }
  | { readonly type: 'entry' }
  | { readonly type: 'leaf'; readonly key: Uint8Array; readonly value: Uint8Array }
  | { readonly type: 'empty' };

/** A compact proof for several keys at once: each shared node is sent once. */
export interface MapMultiProof {
  readonly nodes: readonly MapMultiNode[];
}

/** One difference between two maps; `before` null = added, `after` null = removed. */
export interface MapChange {
  readonly key: Uint8Array;
  readonly before: Uint8Array | null;
  readonly after: Uint8Array | null;
}

/** Result of proving one key: membership when present, non-membership otherwise. */
export type MapKeyProof =
  | { readonly kind: 'map-membership'; readonly value: Uint8Array; readonly proof: MapMembershipProof }
  | { readonly kind: 'map-non-membership'; readonly proof: MapNonMembershipProof };
