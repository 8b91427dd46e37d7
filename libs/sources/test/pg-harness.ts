/**
 * Test harness: one throw-away database per test file on the real Postgres, unique slot names, and helpers to
 * read batches with deadlines. Everything created here is dropped in `dispose()` (slots before the database).
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { BatchPosition, ChangeBatch } from '../src/index.ts';

/** What BatchReader reads from (PgLogicalSource, DebeziumSource). */
export interface BatchSource {
  batches(): AsyncIterable<ChangeBatch>;
  ack(position: BatchPosition): Promise<void>;
}

export const PG = { host: process.env['PGHOST'] ?? '127.0.0.1', port: Number(process.env['PGPORT'] ?? 5432), user: process.env['PGUSER'] ?? 'postgres' };

export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

export interface TestDb {
  database: string;
  connection: { host: string; port: number; user: string; database: string };
  /** A client on the test database (for writes and checks). */
  client: pg.Client;
  query<R extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<pg.QueryResult<R>>;
  newClient(): Promise<pg.Client>;
  slotName(): string;
  dispose(): Promise<void>;
}

export async function createTestDb(): Promise<TestDb> {
  const database = uniqueName('ms_test');
  const admin = new pg.Client({ ...PG, database: 'postgres' });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  const connection = { ...PG, database };
  const client = new pg.Client(connection);
  await client.connect();
  const slots: string[] = [];
  const extra: pg.Client[] = [];
  return {
    database,
    connection,
    client,
    query: (sql, params) => client.query(sql, params),
    async newClient() {
      const c = new pg.Client(connection);
      await c.connect();
      extra.push(c);
      return c;
    },
    slotName() {
      const s = uniqueName('ms_slot');
      slots.push(s);
      return s;
    },
    async dispose() {
      for (const c of extra) await c.end().catch(() => undefined);
      await client.end().catch(() => undefined);
      // Slots are cluster-wide and pin WAL: drop every slot of this database before the database itself.
      const deadline = Date.now() + 10_000;
      for (;;) {
        const r = await admin.query<{ slot_name: string; active_pid: number | null }>(
          'SELECT slot_name, active_pid FROM pg_replication_slots WHERE database = $1',
          [database],
        );
        if (r.rows.length === 0) break;
        for (const s of r.rows) {
          if (s.active_pid !== null) await admin.query('SELECT pg_terminate_backend($1)', [s.active_pid]);
          else await admin.query('SELECT pg_drop_replication_slot($1)', [s.slot_name]).catch(() => undefined);
        }
        if (Date.now() > deadline) throw new Error(`slots of ${database} still active`);
        await new Promise((r) => setTimeout(r, 20));
      }
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await admin.end();
    },
  };
}

/** Reads batches from an iterator until `done` says so, failing after `ms`. */
export class BatchReader {
  readonly #it: AsyncIterator<ChangeBatch>;
  readonly received: ChangeBatch[] = [];
  /** A next() that timed out is still pending on the generator: the following call must reuse it, not lose its batch. */
  #pending: Promise<IteratorResult<ChangeBatch>> | null = null;
  constructor(source: BatchSource) {
    this.#it = source.batches()[Symbol.asyncIterator]();
  }
  async next(ms = 10_000): Promise<ChangeBatch> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no batch within ${ms} ms`)), ms);
    });
    try {
      this.#pending ??= this.#it.next();
      const r = await Promise.race([this.#pending, timeout]);
      this.#pending = null;
      if (r.done) throw new Error('batches ended');
      this.received.push(r.value);
      return r.value;
    } finally {
      clearTimeout(timer);
    }
  }
  /** Reads (and optionally acks) until `until(batch)` is true; returns the batches read. */
  async readUntil(until: (b: ChangeBatch) => boolean, opts: { ack?: BatchSource; ms?: number } = {}): Promise<ChangeBatch[]> {
    const out: ChangeBatch[] = [];
    const deadline = Date.now() + (opts.ms ?? 20_000);
    for (;;) {
      const b = await this.next(Math.max(1, deadline - Date.now()));
      out.push(b);
      if (opts.ack) await opts.ack.ack(b);
      if (until(b)) return out;
    }
  }
}

/** Polls `check` until it returns a value other than undefined, failing after `ms`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function confirmedFlush(db: TestDb, slot: string): Promise<string | null> {
  const r = await db.query<{ lsn: string | null }>('SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1', [slot]);
  return r.rows[0]?.lsn ?? null;
}
