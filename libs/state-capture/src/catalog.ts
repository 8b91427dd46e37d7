// Table descriptions the capture needs: columns with types (for fromPgText and for re-creating the table in
// replay), the primary key, defaults, identity/generated flags and owned sequences. One catalog query per table,
// cached per session until DDL is seen.
import type { PgType } from '@merklesync/crypto';
import type { TableRef } from '@merklesync/sql-analysis';
import { CaptureError, CaptureErrorCode } from './errors.ts';
import { textParam, type SqlRunner } from './runner.ts';
import { qualified, quoteIdent } from './sql.ts';

/** One column. */
export interface ColumnMeta {
  readonly name: string;
  /** pg_type OID of the column type. */
  readonly typeOid: number;
  /** What fromPgText takes: the OID, a domain's base type OID, or 'text' for enums (as ingest types them). */
  readonly pgType: PgType;
  /** format_type(): a valid SQL type expression (quoted by PostgreSQL where needed). */
  readonly sqlType: string;
  readonly notNull: boolean;
  /** pg_get_expr of the default, or null. For generated columns, the generation expression. */
  readonly default: string | null;
  /** '' | 'a' (GENERATED ALWAYS AS IDENTITY) | 'd' (BY DEFAULT). */
  readonly identity: '' | 'a' | 'd';
  /** '' | 's' (GENERATED ALWAYS AS … STORED) | 'v' (virtual). */
  readonly generated: '' | 's' | 'v';
  /** pg_get_serial_sequence of the column (serial / identity), or null. */
  readonly sequence: string | null;
}

/** One table. `name` is `<schema>.<table>`, the table name ingest and the merkle service use. */
export interface TableMeta {
  readonly name: string;
  readonly schema: string;
  readonly rel: string;
  readonly columns: readonly ColumnMeta[];
  /** Primary-key column names in key order; empty when the table has none. */
  readonly pk: readonly string[];
}

/** Index of each pk column in `columns`. */
export function pkIndexes(meta: TableMeta): number[] {
  return meta.pk.map((p) => meta.columns.findIndex((c) => c.name === p));
}

/** The SQL text naming the table as the statement did (unqualified names resolve through search_path). */
export function relationText(t: Pick<TableRef, 'schema' | 'name'>): string {
  return t.schema !== undefined ? qualified(t.schema, t.name) : quoteIdent(t.name);
}

const _DESCRIBE = `SELECT n.nspname, c.relname, a.attname, a.atttypid::int8::text, format_type(a.atttypid, a.atttypmod),
       t.typtype, t.typbasetype::int8::text, a.attnotnull, pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated,
       pg_get_serial_sequence(format('%I.%I', n.nspname, c.relname), a.attname),
       (SELECT k.ord FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
         WHERE i.indrelid = c.oid AND i.indisprimary AND k.attnum = a.attnum)::text
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  JOIN pg_type t ON t.oid = a.atttypid
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE c.oid = to_regclass($1) AND c.relkind IN ('r', 'p')
 ORDER BY a.attnum`;

/**
 * Reads one table's description through the runner.
 * @throws CaptureError(TABLE_NOT_FOUND) when the name does not resolve to a table.
 */
export async function describeTable(runner: SqlRunner, relation: string): Promise<TableMeta> {
  const rows = await runner.run(_DESCRIBE, [textParam(relation)]);
  if (rows.length === 0) throw new CaptureError(CaptureErrorCode.TableNotFound, `table ${relation} not found`);
  const pk: { ord: number; name: string }[] = [];
  const columns: ColumnMeta[] = rows.map((r) => {
    const [, , name, oid, sqlType, typtype, base, notNull, def, identity, generated, seq, ord] = r as string[];
    const typeOid = Number(oid);
    if (ord !== null && ord !== undefined) pk.push({ ord: Number(ord), name: name! });
    return {
      name: name!,
      typeOid,
      pgType: typtype === 'd' ? Number(base) : typtype === 'e' ? 'text' : typeOid,
      sqlType: sqlType!,
      notNull: notNull === 't',
      default: def ?? null,
      identity: (identity ?? '') as ColumnMeta['identity'],
      generated: (generated ?? '') as ColumnMeta['generated'],
      sequence: seq ?? null,
    };
  });
  pk.sort((a, b) => a.ord - b.ord);
  const schema = rows[0]![0]!;
  const rel = rows[0]![1]!;
  return { name: `${schema}.${rel}`, schema, rel, columns, pk: pk.map((p) => p.name) };
}

/**
 * Per-session cache of table descriptions, keyed by the relation text as written (search_path is per session).
 * The proxy clears it when the session runs DDL.
 */
export class TableCatalog {
  readonly #cache = new Map<string, Promise<TableMeta>>();

  get(runner: SqlRunner, relation: string): Promise<TableMeta> {
    let p = this.#cache.get(relation);
    if (!p) {
      p = describeTable(runner, relation);
      this.#cache.set(relation, p);
      p.catch(() => this.#cache.delete(relation));
    }
    return p;
  }

  /** Records a description known from elsewhere (replay knows the tables it just created). */
  prime(relation: string, meta: TableMeta): void {
    this.#cache.set(relation, Promise.resolve(meta));
  }

  clear(): void {
    this.#cache.clear();
  }
}
