// Verifier of a TableRootProof (libs/merkle has none yet): RFC 9162 inclusion with the database tags.
import { DATABASE_TREE_TAGS, equalBytes, getHashSuite } from '@merklesync/merkle';
import type { TableRootProof } from '@merklesync/protocol';

export function verifyTableRootProof(p: TableRootProof): boolean {
  const suite = getHashSuite('sha256');
  const name = new TextEncoder().encode(p.table);
  const data = new Uint8Array(4 + name.length + p.tableRoot.length);
  new DataView(data.buffer).setUint32(0, name.length);
  data.set(name, 4);
  data.set(p.tableRoot, 4 + name.length);
  let r = suite.digest(new Uint8Array([...DATABASE_TREE_TAGS.leaf, ...data]));
  let fn = Number(p.tableIndex);
  let sn = Number(p.tableCount) - 1;
  if (fn > sn) return false;
  const node = (l: Uint8Array, rt: Uint8Array): Uint8Array => suite.digest(new Uint8Array([...DATABASE_TREE_TAGS.node, ...l, ...rt]));
  for (const s of p.path) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = node(s, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else r = node(r, s);
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equalBytes(r, p.stateRoot);
}
