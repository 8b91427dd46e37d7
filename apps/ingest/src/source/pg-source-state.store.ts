// Durable SourceStateStore: one row per slot in a small table of the SOURCE database, so a restart streams from
// the slot instead of retaking the snapshot (libs/sources "Snapshot procedure", step 2).
import type pg from 'pg';
import type { SourceState, SourceStateStore } from '@merklesync/sources';

function _ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * `SourceStateStore` in Postgres: table `<schema>.source_state(slot, snapshot_completed, consistent_point,
 * updated_at)`. `migrate()` creates schema and table if absent (the role needs CREATE on the database).
 * Keep the schema out of the publication (list tables, no `FOR ALL TABLES`).
 * @example const store = new PgSourceStateStore(pool, 'merklesync_ingest'); await store.migrate();
 */
export class PgSourceStateStore implements SourceStateStore {
  readonly #pool: pg.Pool;
  readonly #table: string;
  readonly #schema: string;

  constructor(pool: pg.Pool, schema: string) {
    this.#pool = pool;
    this.#schema = _ident(schema);
    this.#table = `${this.#schema}.source_state`;
  }

  /**
   * Creates the schema and table if absent (idempotent). Serialized by an advisory lock: concurrent
   * `CREATE … IF NOT EXISTS` of the same object can still fail on Postgres' catalog unique indexes.
   */
  async migrate(): Promise<void> {
    const client = await this.#pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SELECT pg_advisory_xact_lock(hashtext('merklesync_ingest.migrate'))`);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${this.#schema}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${this.#table} (
           slot text PRIMARY KEY,
           snapshot_completed boolean NOT NULL,
           consistent_point pg_lsn NOT NULL,
           updated_at timestamptz NOT NULL DEFAULT now())`,
      );
      await client.query('COMMIT');
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }

  async load(slot: string): Promise<SourceState | null> {
    const r = await this.#pool.query<{ snapshot_completed: boolean; consistent_point: string }>(
      `SELECT snapshot_completed, consistent_point::text AS consistent_point FROM ${this.#table} WHERE slot = $1`,
      [slot],
    );
    const row = r.rows[0];
    return row ? { slot, snapshotCompleted: row.snapshot_completed, consistentPoint: row.consistent_point } : null;
  }

  async save(state: SourceState): Promise<void> {
    await this.#pool.query(
      `INSERT INTO ${this.#table} (slot, snapshot_completed, consistent_point) VALUES ($1, $2, $3::pg_lsn)
       ON CONFLICT (slot) DO UPDATE SET snapshot_completed = EXCLUDED.snapshot_completed, consistent_point = EXCLUDED.consistent_point, updated_at = now()`,
      [state.slot, state.snapshotCompleted, state.consistentPoint],
    );
  }

  async delete(slot: string): Promise<void> {
    await this.#pool.query(`DELETE FROM ${this.#table} WHERE slot = $1`, [slot]);
  }
}
