// Group commit (README "Group commit") against the real Postgres and JetStream: several messages persisted in
// one transaction, a message that arrives before its predecessor is refused (and nothing is skipped), gaps of
// malformed or deleted messages are crossed, and a failed group is retried as a whole — nothing lost or doubled.
import 'reflect-metadata';
import type { INestMicroservice } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSignerKey, type SignerKey } from '@merklesync/crypto';
import { toHex } from '@merklesync/merkle';
import { NatsConnectionProvider, RetryableError } from '@merklesync/messaging';
import { decodeEvent } from '@merklesync/protocol';
import { leafLocators, type MerkleStore } from '@merklesync/store';
import { ApplyService } from '../src/apply/apply.service.ts';
import { createMerkleApp, type MerkleAppOptions } from '../src/bootstrap.ts';
import { busSubjects } from '../src/bus-subjects.ts';
import { StateHolder } from '../src/state/state-holder.ts';
import { SyntheticSource } from './support/changes.ts';
import { ManualClock, ManualScheduler, createTestDb, openBus, testConfig, waitFor, type BusScope, type TestDb } from './support/env.ts';
import { expectRoots, expectedLog, storeOf } from './support/expect.ts';

let db: TestDb;
let bus: BusScope;
let signer: SignerKey;
const apps: INestMicroservice[] = [];

beforeAll(async () => {
  db = await createTestDb();
  bus = await openBus();
  signer = generateSignerKey('merkle.test/log');
});

afterAll(async () => {
  for (const a of apps) await a.close().catch(() => undefined);
  await bus?.cleanup();
  await db?.drop();
});

/** The service without its consumer (init, not listen): the test hands it the stream's messages itself. */
async function initApp(config: ReturnType<typeof testConfig>, options: MerkleAppOptions) {
  const app = await createMerkleApp(config, options);
  apps.push(app);
  await app.init();
  await app.get(NatsConnectionProvider).connect();
  return { app, applier: app.get(ApplyService), store: storeOf(db, config) };
}

/** `store` with its transactions going through `applyBatch` (which may call the real one). */
function withApplyBatch(store: MerkleStore, applyBatch: MerkleStore['apply']['applyBatch']): MerkleStore {
  const apply = new Proxy(store.apply, { get: (t, p) => (p === 'applyBatch' ? applyBatch : (Reflect.get(t, p, t) as unknown)) });
  return { ...store, apply };
}

describe('group commit', () => {
  it('applies a message only after its predecessor: out-of-order arrivals are refused, gaps of malformed or deleted messages are crossed', async () => {
    const sc = await bus.scenario('g');
    const config = testConfig(db, sc);
    expect(config.bus.maxInFlight).toBeGreaterThan(1);
    const src = new SyntheticSource(`src-${bus.id}-g`);
    const other = new SyntheticSource(`other-${bus.id}-g`);
    const subj = busSubjects(sc.prefix);
    // Messages handed over in the orders a consumer with several messages in flight can produce.
    const { app, applier, store } = await initApp(config, { signer, logger: ['error', 'warn'] });

    const a = src.batch('users', [{ pk: 'a', row: '1' }, { pk: 'b', row: '1' }]);
    const b = src.batch('users', [{ pk: 'a', row: '2' }, { pk: 'c', row: '1' }]);
    const c = src.batch('orders', [{ pk: 'o', row: '1' }, { pk: 'b', row: '9' }]);
    const d = other.batch('users', [{ pk: 'z', row: '1' }]); // will be deleted from the stream before it is applied
    const e = src.batch('users', [{ pk: 'b', row: null }]);
    const pub = async (table: string, s: SyntheticSource, bytes: Uint8Array) => (await bus.js.publish(subj.changes(s.source, table), bytes)).seq;
    const seqA = await pub('users', src, a);
    const seqB = await pub('users', src, b);
    const seqBad = await pub('users', src, new Uint8Array([0xff, 0x01])); // malformed: dead-lettered, never applied
    const seqC = await pub('orders', src, c);
    const seqD = await pub('users', other, d);
    const seqE = await pub('users', src, e);
    expect([seqA, seqB, seqBad, seqC, seqD, seqE]).toEqual([1, 2, 3, 4, 5, 6]);
    const batch = (bytes: Uint8Array) => decodeEvent('change-batch', bytes);

    expect(await applier.apply(batch(a), seqA, subj.changes(src.source, 'users'))).toMatchObject({ applied: true, sequence: 1 });
    // C before B: applying it would make "applied up to 4" skip B.
    await expect(applier.apply(batch(c), seqC, subj.changes(src.source, 'orders'))).rejects.toBeInstanceOf(RetryableError);
    expect(await store.apply.appliedSequence('merkle')).toBe(1);
    expect(applier.timings.outOfOrder).toBe(1);
    expect(app.get(StateHolder).peek()?.sequence).toBe(1);

    // C and B in flight together, C handed over first: both applied, in stream order, in ONE transaction, across
    // the malformed message 3.
    const groups = applier.timings.groups;
    const [rc, rb] = await Promise.all([applier.apply(batch(c), seqC, subj.changes(src.source, 'orders')), applier.apply(batch(b), seqB, subj.changes(src.source, 'users'))]);
    expect(rb).toMatchObject({ applied: true, sequence: 2 });
    expect(rc).toMatchObject({ applied: true, sequence: 4 });
    expect(applier.timings.groups).toBe(groups + 1);
    expect(await store.apply.appliedSequence('merkle')).toBe(4);
    // Each block carries the sequence of the message that brought it, not the group's.
    const tableRoots = new Map((await store.apply.tableRoots()).map((t) => [t.table, t.root]));
    const blockOf = async (table: string, bytes: Uint8Array, i: number) => {
      const key = batch(bytes).events[i]!.block!.mapKey;
      const [at] = await leafLocators(store.maps, tableRoots.get(table)!, [key]);
      return store.blocks.getAt(src.source, table, key, at ?? 0);
    };
    expect((await blockOf('users', b, 0))?.streamSeq).toBe(2); // key a, changed by B
    expect((await blockOf('orders', c, 1))?.streamSeq).toBe(4); // key b of orders, by C
    const roots = new Map((await store.apply.tableRoots()).map((t) => [t.table, t.streamSeq]));
    expect(roots.get('users')).toBe(2);
    expect(roots.get('orders')).toBe(4);

    // Redelivery of an applied message: no effect.
    expect(await applier.apply(batch(b), seqB, subj.changes(src.source, 'users'))).toMatchObject({ applied: false });

    // E while D (valid) is still in the stream: refused. Once D is gone from the stream, E follows 4 directly.
    await expect(applier.apply(batch(e), seqE, subj.changes(src.source, 'users'))).rejects.toBeInstanceOf(RetryableError);
    await bus.jsm.streams.deleteMessage(sc.streams.changes, seqD);
    expect(await applier.apply(batch(e), seqE, subj.changes(src.source, 'users'))).toMatchObject({ applied: true, sequence: 6 });

    await expectRoots(store, src);
    const log = expectedLog([a, b, c, e]);
    expect((await store.logs.head('global'))?.size).toBe(log.size);
    expect(toHex(await store.logs.root('global', log.size))).toBe(toHex(log.root()));
    expect((await store.apply.tableRoots()).some((t) => t.source === other.source)).toBe(false);
    await app.close();
    apps.splice(apps.indexOf(app), 1);
  });

  it('stages arrivals as the next group while a group persists; a redelivery of an in-flight message settles with its group', async () => {
    const sc = await bus.scenario('p');
    const config = testConfig(db, sc, { MERKLE_CHECKPOINT_EVERY_CHANGES: '4' });
    const src = new SyntheticSource(`src-${bus.id}-p`);
    const subj = busSubjects(sc.prefix);
    // The first transaction waits at a gate, so the test knows a group is in flight while it hands over more.
    let entered!: () => void;
    const inFlight = new Promise<void>((r) => (entered = r));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const calls: number[] = [];
    const wrapStore = (st: MerkleStore): MerkleStore =>
      withApplyBatch(st, async (consumer, seq, work) => {
        calls.push(seq);
        if (calls.length === 1) {
          entered();
          await gate;
        }
        return st.apply.applyBatch(consumer, seq, work);
      });
    const { app, applier, store } = await initApp(config, { signer, logger: ['error', 'warn'], wrapStore });
    const msgs = [
      src.batch('users', [{ pk: 'a', row: '1' }, { pk: 'b', row: '1' }, { pk: 'c', row: '1' }]),
      src.batch('users', [{ pk: 'a', row: '2' }, { pk: 'd', row: '1' }]),
      src.batch('orders', [{ pk: 'o', row: '1' }]),
      src.batch('users', [{ pk: 'b', row: null }]),
    ];
    const tables = ['users', 'users', 'orders', 'users'];
    const seqs: number[] = [];
    for (const [k, bytes] of msgs.entries()) seqs.push((await bus.js.publish(subj.changes(src.source, tables[k]!), bytes)).seq);
    const apply = (k: number) => applier.apply(decodeEvent('change-batch', msgs[k]!), seqs[k]!, subj.changes(src.source, tables[k]!));

    const first = apply(0);
    await inFlight; // message 1's group is in its transaction
    const second = apply(1);
    const again = apply(0); // a redelivery of the message in flight
    await new Promise((r) => setTimeout(r, 50)); // message 2 is staged meanwhile: 3 changes in flight + 2 reach the
    // checkpoint count (4), which closes the next group after message 2
    const third = apply(2);
    const fourth = apply(3);
    await new Promise((r) => setTimeout(r, 50));
    expect(calls).toEqual([seqs[0]]); // nothing else has started a transaction
    release();
    expect(await first).toMatchObject({ applied: true, sequence: seqs[0] });
    expect(await again).toMatchObject({ applied: false, sequence: seqs[0] });
    expect(await second).toMatchObject({ applied: true, sequence: seqs[1], checkpoint: 1 });
    expect(await third).toMatchObject({ applied: true, sequence: seqs[2], checkpoint: undefined });
    expect(await fourth).toMatchObject({ applied: true, sequence: seqs[3], checkpoint: undefined });
    // Three transactions, in order: message 1; message 2 (staged while 1 persisted, closed by the checkpoint);
    // messages 3 and 4 (staged while 2 persisted; the count restarts after its checkpoint).
    expect(calls).toEqual([seqs[0], seqs[1], seqs[3]]);
    expect(applier.timings.overlapped).toBe(2); // message 2 staged during transaction 1, messages 3 and 4 during transaction 2
    const cps = await store.checkpoints.list('global');
    expect(cps.map((c) => [c.seq, c.logSize])).toEqual([[1, 5]]);
    await expectRoots(store, src);
    const log = expectedLog(msgs);
    expect((await store.logs.head('global'))?.size).toBe(log.size);
    expect(toHex(await store.logs.root('global', log.size))).toBe(toHex(log.root()));
    expect(toHex(cps[0]!.logRoot)).toBe(toHex(log.root(5)));
    await app.close();
    apps.splice(apps.indexOf(app), 1);
  });

  it('a checkpoint due by time is signed over the whole group of waiting messages; one due by count still closes the group', async () => {
    const sc = await bus.scenario('t');
    const config = testConfig(db, sc, { MERKLE_CHECKPOINT_EVERY_CHANGES: '5', MERKLE_CHECKPOINT_EVERY_MS: '1000' });
    const src = new SyntheticSource(`src-${bus.id}-t`);
    const subj = busSubjects(sc.prefix);
    const clock = new ManualClock();
    const { app, applier, store } = await initApp(config, { signer, clock, scheduler: new ManualScheduler(), logger: ['error', 'warn'] });
    const msgs = [
      src.batch('users', [{ pk: 'a', row: '1' }]),
      src.batch('users', [{ pk: 'b', row: '1' }]),
      src.batch('users', [{ pk: 'c', row: '1' }]),
      src.batch('orders', [{ pk: 'o', row: '1' }]),
      src.batch('users', [{ pk: 'd', row: '1' }, { pk: 'e', row: '1' }]),
      src.batch('users', [{ pk: 'f', row: '1' }, { pk: 'g', row: '1' }, { pk: 'h', row: '1' }]),
      src.batch('orders', [{ pk: 'p', row: '1' }]),
    ];
    const tables = ['users', 'users', 'users', 'orders', 'users', 'users', 'orders'];
    const seqs: number[] = [];
    for (const [k, bytes] of msgs.entries()) seqs.push((await bus.js.publish(subj.changes(src.source, tables[k]!), bytes)).seq);
    const apply = (k: number) => applier.apply(decodeEvent('change-batch', msgs[k]!), seqs[k]!, subj.changes(src.source, tables[k]!));

    expect(await apply(0)).toMatchObject({ applied: true, checkpoint: undefined }); // 1 change, T not passed
    clock.advance(1000);
    // Three messages in flight once T has passed: one group, one checkpoint over the state after the last of them.
    const groups = applier.timings.groups;
    const [r1, r2, r3] = await Promise.all([apply(1), apply(2), apply(3)]);
    expect(applier.timings.groups).toBe(groups + 1);
    expect([r1, r2]).toMatchObject([{ checkpoint: undefined }, { checkpoint: undefined }]);
    expect(r3).toMatchObject({ applied: true, checkpoint: 1 });
    expect((await store.checkpoints.list('global')).map((c) => [c.seq, c.logSize])).toEqual([[1, 4]]);
    // Count: 5 changes after checkpoint 1 are reached inside the next three messages (2 + 3): that checkpoint is over
    // the state after message 6, and message 7 goes to a group of its own.
    const [r4, r5, r6] = await Promise.all([apply(4), apply(5), apply(6)]);
    expect([r4, r5, r6]).toMatchObject([{ checkpoint: undefined }, { checkpoint: 2 }, { checkpoint: undefined }]);
    expect((await store.checkpoints.list('global')).map((c) => [c.seq, c.logSize])).toEqual([[1, 4], [2, 9]]);
    expect(applier.timings.groups).toBe(groups + 3);
    await expectRoots(store, src);
    await app.close();
    apps.splice(apps.indexOf(app), 1);
  });

  // Map nodes written inside the group's transaction (0) or on a parallel connection committed before it (1, the
  // default); and groups of at most two messages, so that each group stages while the one before it persists and a
  // failure hits a group with the next one already staged on top of it.
  it.each([
    ['0', '20000'],
    ['1', '20000'],
    ['1', '6'],
  ])('retries a group whose transaction failed (before or after commit) as a whole: nothing lost, nothing doubled (MERKLE_NODE_WRITERS=%s, MERKLE_GROUP_MAX_CHANGES=%s)', async (writers, groupMax) => {
    const sc = await bus.scenario(`h${writers}g${groupMax}`);
    const config = testConfig(db, sc, { MERKLE_CHECKPOINT_EVERY_CHANGES: '6', MERKLE_NODE_WRITERS: writers, MERKLE_GROUP_MAX_CHANGES: groupMax });
    expect(config.database.nodeWriters).toBe(Number(writers));
    const src = new SyntheticSource(`src-${bus.id}-h${writers}g${groupMax}`);
    const subj = busSubjects(sc.prefix);
    const msgs = Array.from({ length: 12 }, (_, i) =>
      src.batch(i % 3 === 0 ? 't1' : 't2', Array.from({ length: 3 }, (_, j) => ({ pk: `k${(i * 2 + j) % 9}`, row: (i + j) % 5 === 4 ? null : `v${i}.${j}` }))),
    );
    // Published before the service starts, so they are in flight together and grouped.
    let last = 0;
    for (const [i, m] of msgs.entries()) last = (await bus.js.publish(subj.changes(src.source, i % 3 === 0 ? 't1' : 't2'), m)).seq;
    const failures = new Map<number, 'before-commit' | 'after-commit'>([
      [3, 'before-commit'],
      [8, 'after-commit'],
    ]);
    const seen: { last: number; mode: string | undefined }[] = [];
    const wrapStore = (s: MerkleStore): MerkleStore => {
      const applyBatch: MerkleStore['apply']['applyBatch'] = async (consumer, seq, work) => {
        // The first transaction whose group reaches a failing message fails (the group's own sequence is its last).
        const key = [...failures.keys()].filter((k) => k <= seq).sort((x, y) => x - y)[0] ?? -1;
        const mode = failures.get(key);
        failures.delete(key);
        seen.push({ last: seq, mode });
        if (mode === 'before-commit') {
          return s.apply.applyBatch(consumer, seq, async (w) => {
            await work(w);
            throw new Error('injected failure inside the transaction');
          });
        }
        const r = await s.apply.applyBatch(consumer, seq, work);
        if (mode === 'after-commit') throw new Error('injected failure after the commit');
        return r;
      };
      return withApplyBatch(s, applyBatch);
    };
    const app = await createMerkleApp(config, { signer, logger: false, wrapStore, retryBackoffMs: [50] });
    apps.push(app);
    await app.listen();
    const store = storeOf(db, config);
    await waitFor(`applied sequence ${last}`, async () => (await store.apply.appliedSequence('merkle')) >= last);
    await waitFor('state at the last sequence', () => app.get(StateHolder).peek()?.sequence === last);
    expect(failures.size).toBe(0);
    expect(app.get(StateHolder).loads).toBeGreaterThanOrEqual(3);
    const t = app.get(ApplyService).timings;
    expect(t.groups).toBeLessThan(t.messages); // grouping happened
    if (groupMax === '6') expect(t.overlapped).toBeGreaterThan(0); // pipelining happened
    expect(seen.some((x) => x.mode !== undefined)).toBe(true);
    await expectRoots(store, src);
    const log = expectedLog(msgs);
    expect((await store.logs.head('global'))?.size).toBe(log.size); // no change doubled, none lost
    expect(toHex(await store.logs.root('global', log.size))).toBe(toHex(log.root()));
    expect(toHex(app.get(StateHolder).peek()!.log.root())).toBe(toHex(log.root()));
    const cps = await store.checkpoints.list('global');
    for (const cp of cps) expect(toHex(cp.logRoot)).toBe(toHex(log.root(cp.logSize)));
    await app.close();
    apps.splice(apps.indexOf(app), 1);
  });
});
