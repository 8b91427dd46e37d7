import type { PgType } from '@merklesync/crypto';
import type pg from 'pg';
import { SourceError, SourceErrorCode } from './errors.ts';
import { qualified, quoteIdent } from './sql.ts';

/** How a table's rows are keyed and typed, read from the catalog at start-up. */
export interface CapturedTable {
  schema: string;
  table: string;
  /** `pg_class.relreplident`: 'd' default (primary key) or 'f' full; 'n' and 'i' are refused. */
  replicaIdentity: 'd' | 'f';
  /** Primary-key column names in key order (`pg_index.indkey`), which may differ from column order. */
  primaryKey: string[];
  /** Column name → the type given to `fromPgText`: domains map to their base type, enums to text. */
  columnTypes: Map<string, PgType>;
  /** Columns that can be TOASTed (varlena with storage other than plain). */
  toastable: string[];
}

/** `schema.table` key used in maps. */
export function tableKey(schema: string, table: string): string {
  return `${schema}.${table}`;
}

/** @throws SourceError(SERVER_CONFIG) when wal_level is not logical. */
export async function checkServer(client: pg.Client): Promise<void> {
  const r = await client.query<{ wal_level: string }>('SHOW wal_level');
  if (r.rows[0]?.wal_level !== 'logical') {
    throw new SourceError(SourceErrorCode.ServerConfig, `wal_level is ${String(r.rows[0]?.wal_level)}; logical replication needs wal_level=logical`);
  }
}

/**
 * Makes sure the publication exists and publishes every captured table with insert, update, delete and
 * truncate; returns the captured table names (the configured ones, or every table of the publication).
 * @throws SourceError(PUBLICATION_MISMATCH | INVALID_CONFIG)
 */
export async function ensurePublication(
  client: pg.Client,
  publication: string,
  tables: readonly { schema: string; table: string }[] | null,
  create: boolean,
): Promise<{ schema: string; table: string }[]> {
  const found = await client.query<{ pubinsert: boolean; pubupdate: boolean; pubdelete: boolean; pubtruncate: boolean }>(
    'SELECT pubinsert, pubupdate, pubdelete, pubtruncate FROM pg_publication WHERE pubname = $1',
    [publication],
  );
  let pub = found.rows[0];
  if (!pub) {
    if (!tables || tables.length === 0) {
      throw new SourceError(SourceErrorCode.InvalidConfig, `publication ${publication} does not exist and no tables are configured to create it with`);
    }
    if (!create) throw new SourceError(SourceErrorCode.PublicationMismatch, `publication ${publication} does not exist (createPublication is off)`);
    // Verify the tables first so a typo is reported as TABLE_NOT_FOUND, not as a raw Postgres error.
    for (const t of tables) await _relationOid(client, t.schema, t.table);
    try {
      await client.query(`CREATE PUBLICATION ${quoteIdent(publication)} FOR TABLE ${tables.map((t) => qualified(t.schema, t.table)).join(', ')}`);
    } catch (e) {
      // Two sources racing to create the same publication: the loser just verifies it below.
      if ((e as { code?: string }).code !== '42710') throw e;
    }
    pub = { pubinsert: true, pubupdate: true, pubdelete: true, pubtruncate: true };
  }
  if (!pub.pubinsert || !pub.pubupdate || !pub.pubdelete || !pub.pubtruncate) {
    throw new SourceError(SourceErrorCode.PublicationMismatch, `publication ${publication} must publish insert, update, delete and truncate`);
  }
  const published = await client.query<{ schemaname: string; tablename: string }>(
    'SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1 ORDER BY schemaname, tablename',
    [publication],
  );
  const have = new Set(published.rows.map((r) => tableKey(r.schemaname, r.tablename)));
  if (!tables || tables.length === 0) return published.rows.map((r) => ({ schema: r.schemaname, table: r.tablename }));
  for (const t of tables) {
    if (!have.has(tableKey(t.schema, t.table))) {
      await _relationOid(client, t.schema, t.table);
      throw new SourceError(SourceErrorCode.PublicationMismatch, `publication ${publication} does not publish ${tableKey(t.schema, t.table)}`);
    }
  }
  return [...tables];
}

async function _relationOid(client: pg.Client, schema: string, table: string): Promise<{ oid: number; relreplident: string }> {
  const r = await client.query<{ oid: number; relreplident: string }>(
    `SELECT c.oid::int AS oid, c.relreplident FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')`,
    [schema, table],
  );
  const row = r.rows[0];
  if (!row) throw new SourceError(SourceErrorCode.TableNotFound, `table ${tableKey(schema, table)} does not exist`);
  return row;
}

/**
 * Reads key, identity and column types of a captured table and enforces the source's rules.
 * @throws SourceError(TABLE_NOT_FOUND | NO_PRIMARY_KEY | REPLICA_IDENTITY)
 */
export async function describeTable(
  client: pg.Client,
  schema: string,
  table: string,
  toastMode: 'require-full' | 'mark-unchanged',
): Promise<CapturedTable> {
  const name = tableKey(schema, table);
  const { oid, relreplident } = await _relationOid(client, schema, table);
  const pk = await client.query<{ attname: string }>(
    `SELECT a.attname FROM pg_index i
       CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
      WHERE i.indrelid = $1 AND i.indisprimary ORDER BY k.ord`,
    [oid],
  );
  if (pk.rows.length === 0) {
    throw new SourceError(
      SourceErrorCode.NoPrimaryKey,
      `table ${name} has no primary key; MerkleSync keys every row by its primary key, so tables without one are refused (add a PRIMARY KEY)`,
    );
  }
  if (relreplident !== 'd' && relreplident !== 'f') {
    throw new SourceError(
      SourceErrorCode.ReplicaIdentity,
      `table ${name} has REPLICA IDENTITY ${relreplident === 'n' ? 'NOTHING' : 'USING INDEX'}; use DEFAULT (the primary key) or FULL`,
    );
  }
  const cols = await client.query<{ attname: string; atttypid: number; attstorage: string; attlen: number; typtype: string; typbasetype: number }>(
    `SELECT a.attname, a.atttypid::int AS atttypid, a.attstorage, a.attlen, t.typtype, t.typbasetype::int AS typbasetype
       FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
      WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
    [oid],
  );
  const columnTypes = new Map<string, PgType>();
  const toastable: string[] = [];
  for (const c of cols.rows) {
    // Domains travel as their base type's text, enums as their label: see the crypto README's type-tag note.
    columnTypes.set(c.attname, c.typtype === 'd' ? c.typbasetype : c.typtype === 'e' ? 'text' : c.atttypid);
    if (c.attlen === -1 && c.attstorage !== 'p') toastable.push(c.attname);
  }
  if (toastMode === 'require-full' && toastable.length > 0 && relreplident !== 'f') {
    throw new SourceError(
      SourceErrorCode.ReplicaIdentity,
      `table ${name} has TOASTable columns (${toastable.join(', ')}) but not REPLICA IDENTITY FULL: an UPDATE that leaves a large value ` +
        `unchanged would not carry it. Run ALTER TABLE ${qualified(schema, table)} REPLICA IDENTITY FULL, or use toast: 'mark-unchanged'`,
    );
  }
  return { schema, table, replicaIdentity: relreplident, primaryKey: pk.rows.map((r) => r.attname), columnTypes, toastable };
}

export interface SlotInfo {
  plugin: string;
  database: string;
  activePid: number | null;
  confirmedFlushLsn: string | null;
}

/** The slot's row in pg_replication_slots, or null. */
export async function findSlot(client: pg.Client, slot: string): Promise<SlotInfo | null> {
  const r = await client.query<{ plugin: string; database: string; active_pid: number | null; confirmed_flush_lsn: string | null }>(
    'SELECT plugin, database, active_pid, confirmed_flush_lsn::text AS confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = $1',
    [slot],
  );
  const row = r.rows[0];
  return row ? { plugin: row.plugin, database: row.database, activePid: row.active_pid, confirmedFlushLsn: row.confirmed_flush_lsn } : null;
}

/**
 * Drops the slot if it exists, waiting (until `deadline`) for a walsender that still holds it to go away.
 * @throws SourceError(CONNECTION_LOST) when the slot stays active past the deadline.
 */
export async function dropSlot(client: pg.Client, slot: string, deadline: number, sleep: (ms: number) => Promise<void>, now: () => number): Promise<void> {
  for (;;) {
    const info = await findSlot(client, slot);
    if (!info) return;
    if (info.activePid === null) {
      try {
        await client.query('SELECT pg_drop_replication_slot($1)', [slot]);
        return;
      } catch (e) {
        // 55006: became active in between; 42704: dropped by someone else. Loop and look again.
        const code = (e as { code?: string }).code;
        if (code !== '55006' && code !== '42704') throw e;
      }
    }
    if (now() > deadline) throw new SourceError(SourceErrorCode.ConnectionLost, `replication slot ${slot} is still in use by pid ${String(info.activePid)}`);
    await sleep(50);
  }
}
