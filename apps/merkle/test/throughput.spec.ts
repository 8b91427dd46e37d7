// Throughput, run on purpose (not part of the default test run):
//   MERKLE_MEASURE=1 NO_COLOR=1 npx vitest run --project app-merkle test/throughput.spec.ts
// 100,000 synthetic changes in messages of 1,000 (10 tables), from the first publish until the store's
// applied sequence reaches the last message; prints changes/s and where the time went.
import 'reflect-metadata';
import { afterAll, describe, expect, it } from 'vitest';
import { generateSignerKey } from '@merklesync/crypto';
import { toHex } from '@merklesync/merkle';
import { createStore, storeConfig } from '@merklesync/store';
import { ApplyService } from '../src/apply/apply.service.ts';
import { createMerkleApp } from '../src/bootstrap.ts';
import { busSubjects } from '../src/bus-subjects.ts';
import { SyntheticSource } from './support/changes.ts';
import { createTestDb, openBus, testConfig, waitFor, type BusScope, type TestDb } from './support/env.ts';

const enabled = process.env['MERKLE_MEASURE'] === '1';
const TOTAL = Number(process.env['MERKLE_MEASURE_CHANGES'] ?? 100_000);
const PER_MESSAGE = 1_000;

describe.skipIf(!enabled)('merkle throughput', () => {
  let db: TestDb | undefined;
  let bus: BusScope | undefined;
  afterAll(async () => {
    await bus?.cleanup();
    await db?.drop();
  });

  it(`applies ${TOTAL} changes in messages of ${PER_MESSAGE}`, { timeout: 600_000 }, async () => {
    db = await createTestDb();
    bus = await openBus();
    const sc = await bus.scenario('p');
    // MERKLE_MAX_IN_FLIGHT / MERKLE_GROUP_MAX_CHANGES / MERKLE_NODE_WRITERS from the environment compare settings (1 / - / 0 = one
    // transaction per message).
    const tuning = Object.fromEntries(['MERKLE_MAX_IN_FLIGHT', 'MERKLE_GROUP_MAX_CHANGES', 'MERKLE_NODE_WRITERS'].flatMap((k) => (process.env[k] === undefined ? [] : [[k, process.env[k]]])));
    const config = testConfig(db, sc, { MERKLE_PULL_BATCH: '4', ...tuning });
    const src = new SyntheticSource(`perf-${bus.id}`);
    const subj = busSubjects(sc.prefix);
    const t0 = performance.now();
    const msgs: { subject: string; bytes: Uint8Array }[] = [];
    for (let m = 0; m < TOTAL / PER_MESSAGE; m++) {
      const table = `public.t${m % 10}`;
      // Mostly inserts of new keys; every 4th message updates keys inserted earlier.
      const changes = Array.from({ length: PER_MESSAGE }, (_, i) => ({ pk: m % 4 === 3 ? `k${(m - 1) * PER_MESSAGE + i}` : `k${m * PER_MESSAGE + i}`, row: `{"m":${m},"i":${i},"pad":"${'x'.repeat(40)}"}` }));
      msgs.push({ subject: subj.changes(src.source, table), bytes: src.batch(table, changes) });
    }
    const built = performance.now();
    const app = await createMerkleApp(config, { signer: generateSignerKey('merkle.perf/log'), logger: ['error', 'warn'] });
    await app.listen();
    const store = createStore(db.pool, storeConfig({ schema: config.database.schema }));
    const start = performance.now();
    const acks = await Promise.all(msgs.map((m) => bus!.js.publish(m.subject, m.bytes)));
    const published = performance.now();
    const last = Math.max(...acks.map((a) => a.seq));
    await waitFor('all applied', async () => (await store.apply.appliedSequence('merkle')) >= last, 600_000);
    await waitFor('timings of the last message', () => app.get(ApplyService).timings.messages === msgs.length);
    const done = performance.now();
    const t = app.get(ApplyService).timings;
    const secs = (done - start) / 1000;
    console.log(
      JSON.stringify(
        {
          changes: t.changes,
          messages: t.messages,
          groups: t.groups,
          maxInFlight: config.bus.maxInFlight,
          buildMs: Math.round(built - t0),
          publishMs: Math.round(published - start),
          endToEndMs: Math.round(done - start),
          changesPerSec: Math.round(t.changes / secs),
          perMessageMs: { stage: +(t.stageMs / t.messages).toFixed(2), persist: +(t.persistMs / t.messages).toFixed(2), publish: +(t.publishMs / t.messages).toFixed(2) },
          totalsMs: { stage: Math.round(t.stageMs), persist: Math.round(t.persistMs), publish: Math.round(t.publishMs) },
          persistPartsMs: {
            collectNodes: Math.round(t.collectNodesMs),
            writeMapNodes: Math.round(t.mapNodesMs),
            writeLogNodes: Math.round(t.logNodesMs),
            writeBlocks: Math.round(t.blocksMs),
            rootsAndCommit: Math.round(t.persistMs - t.mapNodesMs - t.logNodesMs - t.blocksMs),
          },
          perMessageBlocksMs: +(t.blocksMs / t.messages).toFixed(2),
          blocksWritten: t.blocks,
          blockRows: Number((await db.pool.query(`SELECT count(*) FROM "${config.database.schema}".blocks`)).rows[0].count),
          mapNodesWritten: t.mapNodes,
          mapNodeChunks: Number((await db.pool.query(`SELECT count(*) FROM "${config.database.schema}".map_node_chunks`)).rows[0].count),
          rootT0: toHex(src.expectedRoot('public.t0')).slice(0, 16),
        },
        null,
        2,
      ),
    );
    expect(t.changes).toBe(TOTAL);
    await app.close();
  });
});
