import { createHash } from 'node:crypto';
import { _tables, type StoreConfig } from '../config.ts';
import { inTransaction, type PgPool } from '../db.ts';
import { StoreError, StoreErrorCode } from '../errors.ts';
import { MIGRATIONS, type Migration } from './index.ts';

/** What {@link migrate} did. */
export interface MigrationResult {
  /** Versions applied by this call (empty when the schema was already current). */
  readonly applied: readonly number[];
  /** Schema version after the call. */
  readonly version: number;
}

/** Advisory-lock class for migrations (the second key is the schema name's hash), so schemas migrate independently. */
const _LOCK_CLASS = 0x4d53; // "MS"

/**
 * Brings the store schema up to date: creates the schema and `schema_migrations` if absent, then applies
 * every known migration not yet recorded, in order, all in ONE transaction holding a transaction-scoped
 * advisory lock, so replicas starting together serialise (the second sees the first's work and applies
 * nothing) and a failure leaves the schema as it was. Idempotent.
 * @throws StoreError(SCHEMA_TOO_NEW) when the database records a version this code does not know;
 *   StoreError(MIGRATION_CHANGED) when a recorded checksum differs from the code's;
 *   StoreError(DATABASE) when Postgres fails.
 * @example await migrate(pool, storeConfig({ schema: 'merklesync' }))
 */
export async function migrate(pool: PgPool, config: StoreConfig, migrations: readonly Migration[] = MIGRATIONS): Promise<MigrationResult> {
  const t = _tables(config);
  return inTransaction(pool, async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [_LOCK_CLASS, config.schema]);
    await tx.query(`CREATE SCHEMA IF NOT EXISTS ${t.schema}`);
    await tx.query(
      `CREATE TABLE IF NOT EXISTS ${t.migrations} (
         version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const { rows } = await tx.query<{ version: number; name: string; checksum: string }>(
      `SELECT version, name, checksum FROM ${t.migrations} ORDER BY version`,
    );
    const known = new Map(migrations.map((m) => [m.version, m]));
    const newest = migrations.reduce((v, m) => Math.max(v, m.version), 0);
    for (const r of rows) {
      const m = known.get(r.version);
      if (m === undefined) {
        throw new StoreError(
          StoreErrorCode.SchemaTooNew,
          `schema "${config.schema}" has migration ${r.version} (${r.name}); this code knows up to ${newest}: deploy the newer build`,
        );
      }
      if (_checksum(m) !== r.checksum) {
        throw new StoreError(StoreErrorCode.MigrationChanged, `migration ${m.version} (${m.name}) differs from the one applied`);
      }
    }
    const done = new Set(rows.map((r) => r.version));
    const applied: number[] = [];
    await tx.query(`SET LOCAL search_path TO ${t.schema}`);
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(m.version)) continue;
      await tx.query(m.sql);
      await tx.query(`INSERT INTO ${t.migrations} (version, name, checksum) VALUES ($1, $2, $3)`, [m.version, m.name, _checksum(m)]);
      applied.push(m.version);
    }
    return { applied, version: newest };
  });
}

function _checksum(m: Migration): string {
  return createHash('sha256').update(m.sql).digest('hex');
}
