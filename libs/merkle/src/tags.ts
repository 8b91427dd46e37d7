/**
 * Domain-separation prefixes. Every hash this library computes starts with exactly one of these bytes,
 * so no two structures (or two levels of one structure) can ever hash the same message.
 * The byte values are part of the wire format (libs/merkle/README.md); never renumber them.
 */
export const Tag = {
  /** RFC 9162 §2.1.1 leaf: H(0x00 || data). */
  LogLeaf: 0x00,
  /** RFC 9162 §2.1.1 interior node: H(0x01 || left || right). */
  LogNode: 0x01,
  /** Map leaf: H(0x10 || key[32] || value). */
  MapLeaf: 0x10,
  /** Map branch: H(0x11 || bit[1] || left[32] || right[32]); `bit` is the index (0 = MSB of key byte 0) where the two subtrees split. */
  MapBranch: 0x11,
  /** Root of the empty map: H(0x12). */
  MapEmpty: 0x12,
  /** Table row leaf: H(0x20 || u32be(len(key)) || key || row). */
  TableRow: 0x20,
  /** Table interior node: H(0x21 || left || right). */
  TableNode: 0x21,
  /** Root of an empty table: H(0x22). */
  TableEmpty: 0x22,
  /** Database entry leaf: H(0x30 || u32be(len(name)) || utf8(name) || tableRoot[32]). */
  DatabaseEntry: 0x30,
  /** Database interior node: H(0x31 || left || right). */
  DatabaseNode: 0x31,
  /** Root of a database with no tables: H(0x32). */
  DatabaseEmpty: 0x32,
} as const;
export type Tag = (typeof Tag)[keyof typeof Tag];

/** One-byte prefix arrays, allocated once (the hash suites take prefixes as bytes). */
export const TagBytes: Readonly<Record<keyof typeof Tag, Uint8Array>> = Object.freeze(
  Object.fromEntries(Object.entries(Tag).map(([k, v]) => [k, Uint8Array.of(v)])) as Record<keyof typeof Tag, Uint8Array>,
);
