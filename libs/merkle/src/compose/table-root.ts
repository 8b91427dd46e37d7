import { assertBytes } from '../bytes.ts';
import type { HashSuite } from '../hash/suite.ts';
import type { TreeHashTags } from '../log/tree-hash.ts';
import { TagBytes } from '../tags.ts';
import { _assertIterable, _assertSuite, _sortedLeafRoot } from './_leaves.ts';

/** Table tree: leaf H(0x20 || u32be(len(key)) || key || row), node H(0x21 || l || r), empty root H(0x22). */
export const TABLE_TREE_TAGS: TreeHashTags = Object.freeze({
  leaf: TagBytes.TableRow,
  node: TagBytes.TableNode,
  empty: TagBytes.TableEmpty,
});

/** One row of a table: its primary-key encoding and its canonical row encoding. */
export interface TableRow {
  readonly key: Uint8Array;
  readonly row: Uint8Array;
}

/**
 * Root committing to a table's full content, independent of row order: rows sorted by key (unsigned
 * lexicographic), leaf H(0x20 || u32be(len(key)) || key || row), RFC 9162 tree shape with node H(0x21||l||r);
 * the empty table's root is H(0x22).
 * @throws TypeError when `rows` is not iterable or a key/row is not a Uint8Array; RangeError on a duplicate key.
 * @example tableRoot(getHashSuite('sha256'), [{ key: k1, row: r1 }, { key: k2, row: r2 }])
 */
export function tableRoot(suite: HashSuite, rows: Iterable<TableRow>): Uint8Array {
  _assertSuite(suite);
  _assertIterable('rows', rows);
  const entries: Array<{ id: Uint8Array; body: Uint8Array }> = [];
  let i = 0;
  for (const r of rows) {
    if (typeof r !== 'object' || r === null) throw new TypeError(`rows[${i}] must be { key, row }`);
    assertBytes(`rows[${i}].key`, r.key);
    assertBytes(`rows[${i}].row`, r.row);
    entries.push({ id: r.key, body: r.row });
    i++;
  }
  return _sortedLeafRoot(suite, TABLE_TREE_TAGS, entries, 'rows: duplicate key');
}
