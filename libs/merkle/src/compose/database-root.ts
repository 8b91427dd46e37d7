import { assertBytes } from '../bytes.ts';
import type { HashSuite } from '../hash/suite.ts';
import type { TreeHashTags } from '../log/tree-hash.ts';
import { TagBytes } from '../tags.ts';
import { _assertIterable, _assertSuite, _sortedLeafRoot } from './_leaves.ts';

/** Database tree: leaf H(0x30 || u32be(len(name)) || utf8(name) || tableRoot), node H(0x31 || l || r), empty H(0x32). */
export const DATABASE_TREE_TAGS: TreeHashTags = Object.freeze({
  leaf: TagBytes.DatabaseEntry,
  node: TagBytes.DatabaseNode,
  empty: TagBytes.DatabaseEmpty,
});

/** One table of a database: its name and its {@link tableRoot}. */
export interface DatabaseTable {
  readonly name: string;
  readonly root: Uint8Array;
}

// A lone surrogate has no UTF-8 form; TextEncoder would silently map it to U+FFFD and let two names collide.
const _LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const _utf8 = new TextEncoder();

/**
 * Root committing to a set of tables, independent of order: sorted by name in UTF-8 byte order, leaf
 * H(0x30 || u32be(len(utf8 name)) || utf8 name || tableRoot), RFC 9162 tree shape with node H(0x31||l||r);
 * no tables gives H(0x32).
 * @throws TypeError when `tables` is not iterable, a name not a string or a root not a Uint8Array; RangeError on
 *   a duplicate name, a name with a lone surrogate, or a root not `suite.outputLength` bytes.
 * @example databaseRoot(suite, [{ name: 'users', root: tableRoot(suite, userRows) }])
 */
export function databaseRoot(suite: HashSuite, tables: Iterable<DatabaseTable>): Uint8Array {
  _assertSuite(suite);
  _assertIterable('tables', tables);
  const entries: Array<{ id: Uint8Array; body: Uint8Array }> = [];
  let i = 0;
  for (const t of tables) {
    if (typeof t !== 'object' || t === null) throw new TypeError(`tables[${i}] must be { name, root }`);
    if (typeof t.name !== 'string') throw new TypeError(`tables[${i}].name must be a string`);
    if (_LONE_SURROGATE.test(t.name)) throw new RangeError(`tables[${i}].name is not valid Unicode (lone surrogate)`);
    assertBytes(`tables[${i}].root`, t.root, suite.outputLength);
    entries.push({ id: _utf8.encode(t.name), body: t.root });
    i++;
  }
  return _sortedLeafRoot(suite, DATABASE_TREE_TAGS, entries, 'tables: duplicate name');
}
