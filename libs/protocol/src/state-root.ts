import { databaseRoot, type HashSuite } from '@merklesync/merkle';
import { subjectToken } from './subjects.ts';

/** One table's current authenticated-map root, as the merkle service keeps it. */
export interface TableState {
  readonly source: string;
  readonly table: string;
  /** The table's SparseMerkleMap root (32 bytes). */
  readonly root: Uint8Array;
}

/**
 * The name a table has inside the state root: `<token(source)>.<token(table)>`, with the subject-token escaping
 * of this library, so no two (source, table) pairs share a name.
 * @example stateTableName('pg main', 'public.users') // 'pg~20main.public~2Eusers'
 */
export function stateTableName(source: string, table: string): string {
  return `${subjectToken(source)}.${subjectToken(table)}`;
}

/**
 * The state root a checkpoint commits to: libs/merkle's databaseRoot over (stateTableName, table map root),
 * ordered by name. The merkle service computes it; edge clients recompute it from table roots.
 * @throws RangeError when two entries name the same (source, table); as subjectToken for invalid names.
 * @example stateRoot(getHashSuite('sha256'), [{ source: 'pg', table: 'public.users', root }])
 */
export function stateRoot(suite: HashSuite, tables: Iterable<TableState>): Uint8Array {
  const entries = [];
  for (const t of tables) entries.push({ name: stateTableName(t.source, t.table), root: t.root });
  return databaseRoot(suite, entries);
}
