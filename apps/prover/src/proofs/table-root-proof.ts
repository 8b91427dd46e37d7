// The inclusion proof of one table's map root in the state root a checkpoint commits to (libs/protocol
// `stateRoot` = libs/merkle `databaseRoot` over (stateTableName, table root)). No producer exists in the libs
// yet, so it is built here from the same tree: an RFC 9162 tree with the database tags, leaves sorted by the
// UTF-8 bytes of the name, leaf data u32be(len(name)) ‖ name ‖ root (the leaf tag 0x30 is LogTree's prefix).
import { DATABASE_TREE_TAGS, LogTree, type HashSuite } from '@merklesync/merkle';
import { stateTableName, type TableState } from '@merklesync/protocol';

/** The fields of the protocol's TableRootProof message, as plain values. */
export interface TableRootInclusion {
  readonly table: string;
  readonly tableRoot: Uint8Array;
  readonly tableIndex: number;
  readonly tableCount: number;
  readonly stateRoot: Uint8Array;
  readonly path: Uint8Array[];
}

const _utf8 = new TextEncoder();

/**
 * Proves `(source, table)`'s root inside the state root of `tables`.
 * @returns undefined when the table is not among `tables`.
 * @throws RangeError when two entries name the same table.
 * @example const p = tableRootInclusion(suite, roots, 'pg', 'public.users'); equalBytes(p.stateRoot, cp.stateRoot)
 */
export function tableRootInclusion(suite: HashSuite, tables: readonly TableState[], source: string, table: string): TableRootInclusion | undefined {
  const entries = tables.map((t) => ({ name: stateTableName(t.source, t.table), utf8: _utf8.encode(stateTableName(t.source, t.table)), root: t.root }));
  entries.sort((a, b) => Buffer.compare(a.utf8, b.utf8));
  const wanted = stateTableName(source, table);
  const index = entries.findIndex((e) => e.name === wanted);
  if (index < 0) return undefined;
  const tree = new LogTree(suite, DATABASE_TREE_TAGS);
  tree.appendMany(
    entries.map((e, i) => {
      if (i > 0 && Buffer.compare(entries[i - 1]!.utf8, e.utf8) === 0) throw new RangeError(`duplicate table ${e.name}`);
      const data = new Uint8Array(4 + e.utf8.length + e.root.length);
      new DataView(data.buffer).setUint32(0, e.utf8.length);
      data.set(e.utf8, 4);
      data.set(e.root, 4 + e.utf8.length);
      return data;
    }),
  );
  const found = entries[index]!;
  return { table: found.name, tableRoot: found.root, tableIndex: index, tableCount: entries.length, stateRoot: tree.root(), path: tree.inclusionProof(index) };
}
