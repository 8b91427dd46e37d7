/**
 * Decoding throughput of the pgoutput source on the real Postgres: one 100k-row INSERT (one transaction),
 * streamed, typed with fromPgText and split into 1000-change parts; the consumer acks every part at once.
 * Run on purpose, not in tests: `node libs/sources/test/throughput.bench.ts [rows]`.
 */
import { MemorySourceStateStore, PgLogicalSource } from '../src/index.ts';
import { BatchReader, createTestDb } from './pg-harness.ts';

const rows = Number(process.argv[2] ?? 100_000);
const db = await createTestDb();
const source = new PgLogicalSource(
  { connection: db.connection, publication: 'ms_bench', slot: db.slotName(), tables: ['orders'] },
  { state: new MemorySourceStateStore() },
);
try {
  await db.query(`CREATE TABLE orders (id int8 PRIMARY KEY, customer text NOT NULL, qty int4, price numeric(12,2),
    created timestamptz, tags text[], meta jsonb)`);
  await db.query('ALTER TABLE orders REPLICA IDENTITY FULL');
  await source.start();
  const reader = new BatchReader(source);
  await reader.readUntil((b) => b.kind === 'snapshot' && b.last, { ack: source });
  const t0 = performance.now();
  await db.query(`INSERT INTO orders SELECT g, 'customer-' || g, g % 100, g * 1.25, now(), ARRAY['a','b'], jsonb_build_object('n', g)
                    FROM generate_series(1, ${rows}) g`);
  const tCommit = performance.now();
  let n = 0;
  let tFirst = 0;
  for (;;) {
    const b = await reader.next(60_000);
    if (n === 0) tFirst = performance.now();
    n += b.changes.length;
    await source.ack(b);
    if (b.last) break;
  }
  const tEnd = performance.now();
  const stream = tEnd - tFirst;
  console.log(
    JSON.stringify({
      rows: n,
      insertMs: Math.round(tCommit - t0),
      firstBatchAfterCommitMs: Math.round(tFirst - tCommit),
      streamMs: Math.round(stream),
      changesPerSecond: Math.round((n / stream) * 1000),
      changesPerSecondFromCommit: Math.round((n / (tEnd - tCommit)) * 1000),
    }),
  );
} finally {
  await source.drop({ publication: true });
  await db.dispose();
}
