import { compareBytes } from '../bytes.ts';
import type { HashSuite } from '../hash/suite.ts';
import { _reduceInPlace, type TreeHashTags } from '../log/tree-hash.ts';

/**
 * Root of an RFC 9162-shaped tree whose leaves are H(tags.leaf || u32be(len(id)) || id || body), sorted by `id`
 * (unsigned lexicographic). The length prefix makes (id, body) splits unambiguous.
 * One packed message buffer and one `digestPrefixedMany` batch for all leaves, then one `digestPairs` per level.
 * @throws RangeError naming `what` when two entries share an id.
 */
export function _sortedLeafRoot(
  suite: HashSuite,
  tags: TreeHashTags,
  entries: Array<{ id: Uint8Array; body: Uint8Array }>,
  what: string,
): Uint8Array {
  const n = entries.length;
  if (n === 0) return suite.digest(tags.empty);
  entries.sort((a, b) => compareBytes(a.id, b.id));
  let total = 0;
  for (let i = 0; i < n; i++) {
    const e = entries[i]!;
    if (i > 0 && compareBytes(entries[i - 1]!.id, e.id) === 0) throw new RangeError(what);
    total += 4 + e.id.length + e.body.length;
  }
  const msgBuf = new Uint8Array(total);
  const dv = new DataView(msgBuf.buffer);
  const msgs = new Array<Uint8Array>(n);
  let off = 0;
  for (let i = 0; i < n; i++) {
    const { id, body } = entries[i]!;
    const start = off;
    dv.setUint32(off, id.length);
    msgBuf.set(id, off + 4);
    msgBuf.set(body, off + 4 + id.length);
    off += 4 + id.length + body.length;
    msgs[i] = msgBuf.subarray(start, off);
  }
  const leaves = new Uint8Array(n * 32);
  suite.digestPrefixedMany(tags.leaf, msgs, leaves);
  return _reduceInPlace(suite, tags.node, leaves, n);
}

export function _assertSuite(suite: unknown): asserts suite is HashSuite {
  if (typeof suite !== 'object' || suite === null || typeof (suite as HashSuite).digestPrefixedMany !== 'function') {
    throw new TypeError('suite must be a HashSuite (see getHashSuite)');
  }
}

export function _assertIterable(name: string, value: unknown): asserts value is Iterable<unknown> {
  if (typeof value !== 'object' || value === null || typeof (value as Iterable<unknown>)[Symbol.iterator] !== 'function') {
    throw new TypeError(`${name} must be iterable`);
  }
}
