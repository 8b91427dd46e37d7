// Measures writing blocks in messages of 1,000 changes against the real Postgres:
//   node libs/store/test/perf/measure-blocks.ts [messages] [blockBytes]
// Not a test (no assertions); prints the figures quoted in libs/store/README.md ("Blocks").
import { BlockOp, PgBlockStore, inTransaction, migrate, storeConfig, type BlockInput } from '../../src/index.ts';
import { createTestDb, rng } from '@merklesync/testkit';

const messages = Number(process.argv[2] ?? 100);
const blockBytes = Number(process.argv[3] ?? 160);
const PER = 1000;
const db = await createTestDb();
const config = storeConfig({ schema: 'ms_perf_blocks' });
const rand = rng(3);
const now = (): number => performance.now();
try {
  await migrate(db.pool, config);
  if (process.env['NO_SCAN_INDEX'] === '1') await db.pool.query('DROP INDEX ms_perf_blocks.blocks_by_table_key');
  const store = new PgBlockStore(db.pool, config, { copyThreshold: process.env['NO_COPY'] === '1' ? Infinity : 200 });
  // 10 tables, 75 % new keys, 25 % updates of keys written before (as apps/merkle's throughput test).
  const keys: Uint8Array[][] = Array.from({ length: 10 }, () => []);
  let logIndex = 0;
  const batches: BlockInput[][] = [];
  for (let m = 0; m < messages; m++) {
    const t = m % 10;
    const table = `public.t${t}`;
    batches.push(
      Array.from({ length: PER }, (_, i) => {
        const reuse = i % 4 === 3 && keys[t]!.length > i;
        const mapKey = reuse ? keys[t]![i]! : rand(32);
        if (!reuse) keys[t]!.push(mapKey);
        return { source: 'pg', table, mapKey, op: BlockOp.Insert, rowVersion: BigInt(m + 1), leafCommitment: rand(32), block: rand(blockBytes), logIndex: logIndex++ };
      }),
    );
  }
  const times: number[] = [];
  for (let m = 0; m < batches.length; m++) {
    // Timed inside the transaction: in apps/merkle the blocks share the batch's transaction (and its commit).
    await inTransaction(db.pool, async (tx) => {
      const s = now();
      await store.put(batches[m]!, m + 1, tx);
      times.push(now() - s);
    });
  }
  times.sort((a, b) => a - b);
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  console.log(
    JSON.stringify({ messages, perMessage: PER, blockBytes, meanMs: +mean.toFixed(2), p50Ms: +times[Math.floor(times.length / 2)]!.toFixed(2), p99Ms: +times[Math.floor(times.length * 0.99)]!.toFixed(2), rowsPerSec: Math.round((PER * 1000) / mean) }),
  );
} finally {
  await db.drop();
}
