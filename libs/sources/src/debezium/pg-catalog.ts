// Column types and primary keys from the source database, for Debezium records that carry no type information
// (JSON converter without schemas, or a connector without column.propagate.source.type).
import pg from 'pg';
import { resolvePgType } from '@merklesync/crypto';
import { SourceError, SourceErrorCode } from '../errors.ts';
import type { CatalogTable } from './record.ts';

/**
 * Describes `tables` (`schema.table`) from `pg_attribute`/`pg_index`: type names as `format_type` prints them
 * (domains resolved to their base type, enums to text, as pgoutput's source types them), numeric scales, primary
 * key order.
 * @throws SourceError(TABLE_NOT_FOUND | NO_PRIMARY_KEY | DECODE) naming the table or column.
 * @example const catalog = await loadPgCatalog({ host: '127.0.0.1', user: 'postgres', database: 'app' }, ['public.users']);
 */
export async function loadPgCatalog(connection: pg.ClientConfig, tables: readonly string[]): Promise<Map<string, CatalogTable>> {
  const client = new pg.Client(connection);
  await client.connect();
  try {
    const out = new Map<string, CatalogTable>();
    for (const t of tables) {
      const [schema, name] = t.split('.') as [string, string];
      const r = await client.query<{ attname: string; typ: string; typtype: string; scale: number | null; pk: number | null }>(
        `SELECT a.attname,
                format_type(coalesce(nullif(bt.typbasetype, 0), a.atttypid), NULL) AS typ,
                bt.typtype,
                CASE WHEN a.atttypmod >= 4 AND coalesce(nullif(bt.typbasetype, 0), a.atttypid) IN (1700, 1231) THEN (a.atttypmod - 4) & 65535 END AS scale,
                array_position(i.indkey::int2[], a.attnum) AS pk
           FROM pg_attribute a
           JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
           JOIN pg_type bt ON bt.oid = a.atttypid
           LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
          WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped
          ORDER BY a.attnum`,
        [schema, name],
      );
      if (r.rows.length === 0) throw new SourceError(SourceErrorCode.TableNotFound, `table ${t} not found`);
      const columns = new Map<string, { pgType: NonNullable<ReturnType<typeof resolvePgType>>; scale: number | null }>();
      const pk: { name: string; at: number }[] = [];
      for (const row of r.rows) {
        const pgType = row.typtype === 'e' ? { scalar: 'text' as const, array: false } : resolvePgType(row.typ);
        if (pgType === undefined) throw new SourceError(SourceErrorCode.Decode, `${t}.${row.attname}: unsupported type ${row.typ}`);
        columns.set(row.attname, { pgType, scale: row.scale });
        if (row.pk !== null) pk.push({ name: row.attname, at: row.pk });
      }
      if (pk.length === 0) throw new SourceError(SourceErrorCode.NoPrimaryKey, `table ${t} has no primary key`);
      out.set(t, { columns, primaryKey: pk.sort((a, b) => a.at - b.at).map((p) => p.name) });
    }
    return out;
  } finally {
    await client.end();
  }
}
