// The writer: INSERT transactions of `txSize` rows into a realistic table as fast as Postgres takes them (or at a
// target rate), one connection, each statement its own autocommit transaction — so the promise resolves after
// COMMIT, and that instant is the transaction's commit time as the client sees it.
import pg from 'pg';
import { fromPgText, type PgValue } from '@merklesync/crypto';
import { sleep } from './process.ts';

export const TABLE = 'public.bench_orders';

/** ~220 bytes of Postgres text per row over 13 columns of 12 types. Ingest requires REPLICA IDENTITY FULL for
 * tables with TOASTable columns (libs/sources README, "TOAST"); it changes nothing for INSERTs. */
export const CREATE_TABLE = `CREATE TABLE ${TABLE} (
  id bigint PRIMARY KEY, customer_id int NOT NULL, sku text NOT NULL, email text, amount numeric(12,2), qty int,
  discount float8, paid boolean, tags text[], attrs jsonb, placed_at timestamptz, ship_day date, ref uuid);
ALTER TABLE ${TABLE} REPLICA IDENTITY FULL`;

// One statement: generate the rows server-side (no client encoding cost) and return only the sampled row, as text,
// through a CTE over RETURNING (one round trip, the sample is exactly what was committed).
const INSERT = `WITH ins AS (
  INSERT INTO ${TABLE}
  SELECT g, (g % 100003)::int, 'SKU-' || lpad((g % 1000000)::text, 8, '0'), 'customer' || g || '@example.com',
         (g % 100000) / 100.0, (g % 97)::int, (g % 1000) / 7.0, g % 3 = 0,
         ARRAY['t' || (g % 13), 'bench', CASE WHEN g % 5 = 0 THEN 'priority' END],
         jsonb_build_object('n', g, 'tier', g % 5, 'note', 'gift wrap, leave at the door'),
         timestamptz '2025-01-01 00:00:00+00' + g * interval '1 second', date '2025-01-01' + (g % 365)::int,
         md5(g::text)::uuid
  FROM generate_series($1::bigint, $2::bigint) g
  RETURNING *)
SELECT * FROM ins WHERE id = $2`;

/** A committed transaction. */
export interface CommittedTx {
  /** First and last id inserted. */
  readonly lo: number;
  readonly hi: number;
  /** performance.now() when the statement was sent / when COMMIT returned. */
  readonly sentAt: number;
  readonly committedAt: number;
  /** Rows committed by this run of the writer up to and including this transaction. */
  readonly cumulative: number;
  /** The transaction's last row as committed (Postgres text output typed by column OID): the latency sample. */
  readonly sample: Readonly<Record<string, PgValue>>;
}

export interface WriterOptions {
  readonly url: string;
  readonly changes: number;
  /** Id of the first row (default 1): a run after a warm-up of N rows starts at N + 1. */
  readonly firstId?: number;
  readonly txSize: number;
  /** Row changes per second to aim at; 0 = as fast as Postgres takes them. */
  readonly rate: number;
  readonly onCommit: (tx: CommittedTx) => void;
  /** Called once connected, with the writer's backend process id (bench:floor reads its CPU). */
  readonly onConnect?: (backendPid: number) => void;
  /** Called after the last transaction, before the connection closes (its backend process is still there). */
  readonly onEnd?: () => void;
  /** Checked between transactions: stop early when it returns true (Ctrl-C, a service died). */
  readonly aborted: () => boolean;
}

/** Runs the workload to the end; ids firstId..firstId + changes − 1. Resolves with every committed transaction, in commit order. */
export async function runWriter(o: WriterOptions): Promise<CommittedTx[]> {
  // Every value as its text output (the form ingest reads from pgoutput and commits to).
  const client = new pg.Client({ connectionString: o.url, types: { getTypeParser: () => (v: string) => v } });
  await client.connect();
  if (o.onConnect) o.onConnect(Number((await client.query<{ pid: string }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid));
  const out: CommittedTx[] = [];
  try {
    const start = performance.now();
    const id0 = (o.firstId ?? 1) - 1;
    let done = 0;
    while (done < o.changes && !o.aborted()) {
      if (o.rate > 0) {
        const due = start + (done / o.rate) * 1000;
        const now = performance.now();
        if (due > now) await sleep(due - now);
      }
      const lo = id0 + done + 1;
      const hi = id0 + Math.min(done + o.txSize, o.changes);
      const sentAt = performance.now();
      const r = await client.query<Record<string, string | null>>(INSERT, [lo, hi]);
      const committedAt = performance.now();
      const row = r.rows[0];
      if (!row) throw new Error(`transaction ${lo}..${hi} returned no sample row`);
      const sample: Record<string, PgValue> = {};
      for (const f of r.fields) sample[f.name] = fromPgText(f.dataTypeID, row[f.name] ?? null);
      done = hi - id0;
      const tx = { lo, hi, sentAt, committedAt, cumulative: done, sample };
      out.push(tx);
      o.onCommit(tx);
    }
    o.onEnd?.();
    return out;
  } finally {
    await client.end();
  }
}
