// The merkle service against the real Postgres and JetStream: synthetic ChangeBatch messages (real keyed
// commitments and sealed blocks) in, roots / log / checkpoints / root updates checked against values
// computed independently.
import 'reflect-metadata';
import type { INestMicroservice } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPolicy, generateSignerKey, verifierKeyOf, verifyCheckpoint, type SignerKey } from '@merklesync/crypto';
import { MemoryMapStore, getHashSuite, toHex } from '@merklesync/merkle';
import { decodeEvent, stateRoot } from '@merklesync/protocol';
import { leafLocators, loadMapIntoMemory, type BlockScanCursor, type MerkleStore, type StoredBlock } from '@merklesync/store';
import { ApplyService } from '../src/apply/apply.service.ts';
import { createMerkleApp, type MerkleAppOptions } from '../src/bootstrap.ts';
import { busSubjects } from '../src/bus-subjects.ts';
import { CheckpointService } from '../src/checkpoint/checkpoint.service.ts';
import type { MerkleConfig } from '../src/config.ts';
import { StateHolder } from '../src/state/state-holder.ts';
import { SyntheticSource } from './support/changes.ts';
import { ManualClock, ManualScheduler, createTestDb, openBus, testConfig, waitFor, type BusScope, type TestDb } from './support/env.ts';
import { expectRoots, expectedLog, storeOf } from './support/expect.ts';

const suite = getHashSuite('sha256');
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

async function start(config: MerkleConfig, opts: Partial<MerkleAppOptions> = {}): Promise<INestMicroservice> {
  const app = await createMerkleApp(config, { signer, logger: ['error', 'warn'], ...opts });
  apps.push(app);
  await app.listen();
  return app;
}

/** Every page of a table's scan after `fromLogIndex`. */
async function scanAll(store: MerkleStore, source: string, table: string, fromLogIndex: number): Promise<StoredBlock[]> {
  const out: StoredBlock[] = [];
  let after: BlockScanCursor | undefined;
  do {
    const page = await store.blocks.scan(source, table, { fromLogIndex, after });
    out.push(...page.blocks);
    after = page.next;
  } while (after !== undefined);
  return out;
}

async function stop(app: INestMicroservice): Promise<void> {
  await app.close();
  apps.splice(apps.indexOf(app), 1);
}

async function waitApplied(store: MerkleStore, consumer: string, seq: number): Promise<void> {
  await waitFor(`applied sequence ${seq}`, async () => (await store.apply.appliedSequence(consumer).catch(() => 0)) >= seq);
}

async function streamMessages(stream: string): Promise<{ subject: string; data: Uint8Array; header: (k: string) => string | undefined }[]> {
  const info = await bus.jsm.streams.info(stream);
  const out = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await bus.jsm.streams.getMessage(stream, { seq });
    if (m !== null) out.push({ subject: m.subject, data: m.data, header: (k: string) => m.header.get(k) || undefined });
  }
  return out;
}

const policy = () => createPolicy({ origin: 'merkle.test/log', log: verifierKeyOf(signer), witnesses: [], threshold: 0 });

describe('merkle service', () => {
  it('applies batches: roots, log, checkpoints every N changes, root updates; redelivery is a no-op', async () => {
    const sc = await bus.scenario('a');
    const config = testConfig(db, sc, { MERKLE_CHECKPOINT_EVERY_CHANGES: '7', MERKLE_CHECKPOINT_EVERY_MS: '3600000' });
    const src = new SyntheticSource(`src-${bus.id}-a`);
    const clock = new ManualClock();
    const app = await start(config, { clock, scheduler: new ManualScheduler() });
    const subj = busSubjects(sc.prefix);
    const msgs: [string, Uint8Array][] = [
      ['users', src.batch('users', ['u1', 'u2', 'u3', 'u4', 'u5'].map((pk) => ({ pk, row: `{"id":"${pk}"}` })))],
      ['orders', src.batch('orders', ['o1', 'o2', 'o3'].map((pk) => ({ pk, row: `{"order":"${pk}"}` })), { snapshot: true })],
      ['users', src.batch('users', [{ pk: 'u1', row: '{"id":"u1","v":2}' }, { pk: 'u2', row: null }, { pk: 'u6', row: '{"id":"u6"}' }])],
      ['users', src.batch('users', [{ pk: 'u3', row: '{"id":"u3","v":2}' }, { pk: 'u3', row: null }, { pk: 'u7', row: '{"id":"u7"}' }])],
      ['orders', src.batch('orders', [{ pk: 'o1', row: null }])],
    ];
    let last = 0;
    const seqs: number[] = [];
    for (const [table, bytes] of msgs) seqs.push((last = (await bus.js.publish(subj.changes(src.source, table), bytes)).seq));
    const store = storeOf(db, config);
    await waitApplied(store, 'merkle', last);

    await expectRoots(store, src);
    const log = expectedLog(msgs.map((m) => m[1]));
    expect(log.size).toBe(15);
    const head = await store.logs.head('global');
    expect(head?.size).toBe(15);
    expect(toHex(await store.logs.root('global', 15))).toBe(toHex(log.root()));

    // 8 changes after message 2 (≥ 7) → checkpoint 1; 7 more after message 5 → checkpoint 2.
    const cps = await store.checkpoints.list('global');
    expect(cps.map((c) => [c.seq, c.logSize])).toEqual([
      [1, 8],
      [2, 15],
    ]);
    expect(cps[1]!.prevHash).toEqual(cps[0]!.hash);
    const v = verifyCheckpoint(cps[1]!.note, policy());
    expect(v.ok).toBe(true);
    if (!v.ok) return;
    expect(v.checkpoint.size).toBe(15);
    expect(toHex(v.checkpoint.rootHash)).toBe(toHex(log.root()));
    expect(toHex(v.checkpoint.stateRoot!)).toBe(toHex(stateRoot(suite, src.expectedTables())));
    expect(v.checkpoint.seq).toBe(2);

    // Each checkpoint stored the table roots its state root commits to.
    for (const cp of cps) {
      const tables = (await store.checkpoints.tableRootsAt('global', cp.seq))!;
      expect(tables.length).toBe(cp.tableCount);
      expect(toHex(stateRoot(suite, tables))).toBe(toHex(cp.stateRoot));
    }
    expect((await store.checkpoints.tableRootsAt('global', 2))!.map((t) => [t.table, toHex(t.root)])).toEqual(
      src.expectedTables().sort((a, b) => (a.table < b.table ? -1 : 1)).map((t) => [t.table, toHex(t.root)]),
    );

    // Blocks: the latest change per key, with its log index and the stream sequence of its message; deletes
    // are tombstones. Computed independently from the published messages.
    const want = new Map<string, { table: string; op: number; block: string; leaf: string; logIndex: number; seq: number }>();
    let index = 0;
    msgs.forEach(([table, bytes], m) => {
      for (const e of decodeEvent('change-batch', bytes).events) {
        const b = e.block!;
        want.set(`${table}/${toHex(b.mapKey)}`, { table, op: b.op, block: toHex(b.block), leaf: toHex(b.leafCommitment), logIndex: index++, seq: seqs[m]! });
      }
    });
    // A live row's block is found through its leaf's locator (libs/store README "Block chunks"); a deleted one's
    // tombstone through the scan, whose latest entry per key is the key's latest change.
    const roots = new Map((await store.apply.tableRoots()).map((t) => [t.table, t.root]));
    const scanned = new Map<string, StoredBlock>();
    for (const table of new Set([...want.values()].map((w) => w.table))) {
      for (const b of await scanAll(store, src.source, table, 0)) {
        const k = `${table}/${toHex(b.mapKey)}`;
        if ((scanned.get(k)?.logIndex ?? -1) < b.logIndex) scanned.set(k, b);
      }
    }
    for (const [k, w] of want) {
      const key = Uint8Array.from(Buffer.from(k.split('/')[1]!, 'hex'));
      const [at] = await leafLocators(store.maps, roots.get(w.table)!, [key]);
      expect(at === undefined, k).toBe(w.op === 3);
      const got = at === undefined ? scanned.get(k) : await store.blocks.getAt(src.source, w.table, key, at);
      expect(got, k).toMatchObject({ op: w.op, logIndex: w.logIndex, streamSeq: w.seq, deleted: w.op === 3 });
      expect(scanned.get(k), k).toMatchObject({ op: w.op, logIndex: w.logIndex, streamSeq: w.seq });
      expect(toHex(got!.block ?? new Uint8Array(0))).toBe(w.block);
      expect(toHex(got!.leafCommitment ?? new Uint8Array(0))).toBe(w.leaf);
    }
    const usersLatest = new Map<string, number>();
    for (const b of await scanAll(store, src.source, 'users', 8)) usersLatest.set(toHex(b.mapKey), Math.max(usersLatest.get(toHex(b.mapKey)) ?? -1, b.logIndex));
    expect([...usersLatest.values()].sort((a, b) => a - b)).toEqual([...want.values()].filter((w) => w.table === 'users' && w.logIndex >= 8).map((w) => w.logIndex).sort((a, b) => a - b));

    // Published: one RootUpdate per table per committed group (messages delivered together are grouped, and a due
    // checkpoint closes a group, so 2–5 updates). Together they count every change once; each names the table's root
    // after its group, which the store can prove against; the last per table names the final root.
    const updates = await waitFor('root updates covering all 15 changes', async () => {
      const u = (await streamMessages(sc.streams.roots)).map((r) => ({ subject: r.subject, ev: decodeEvent('root-update', r.data) }));
      return u.reduce((n, x) => n + Number(x.ev.blockCount), 0) >= 15 ? u : undefined;
    });
    expect(updates.length).toBeGreaterThanOrEqual(2);
    expect(updates.length).toBeLessThanOrEqual(5);
    const logSizeAfter = new Map(seqs.map((q, i) => [q, [5, 8, 11, 14, 15][i]!]));
    for (const { subject, ev } of updates) {
      expect(subject).toBe(subj.roots(src.source, ev.table));
      expect(Number(ev.logSize)).toBe(logSizeAfter.get(Number(ev.sequence)));
      await loadMapIntoMemory(store.maps, suite, new MemoryMapStore(), ev.tableRoot); // every node stored
    }
    const count = (t: string): number => updates.filter((u) => u.ev.table === t).reduce((n, u) => n + Number(u.ev.blockCount), 0);
    expect([count('users'), count('orders')]).toEqual([11, 4]);
    const lastOf = (t: string) => updates.filter((u) => u.ev.table === t).at(-1)!.ev;
    expect(toHex(lastOf('orders').tableRoot)).toBe(toHex(src.expectedRoot('orders')));
    expect(toHex(lastOf('users').tableRoot)).toBe(toHex(src.expectedRoot('users')));
    expect(Number(lastOf('orders').sequence)).toBe(last);
    expect(toHex(lastOf('orders').stateRoot)).toBe(toHex(stateRoot(suite, src.expectedTables())));
    const cpEvents = (await waitFor('2 checkpoint events', async () => {
      const m = await streamMessages(sc.streams.checkpoints);
      return m.length >= 2 ? m : undefined;
    })).map((m) => decodeEvent('checkpoint', m.data).checkpoint!);
    expect(cpEvents.map((c) => Number(c.sequence))).toEqual([1, 2]);
    expect(new TextDecoder().decode(cpEvents[1]!.signedNote)).toBe(cps[1]!.note);

    // Redelivery of an applied message: acknowledged without effect.
    const before = (await store.apply.tableRoots()).map((t) => toHex(t.root));
    const r = await app.get(ApplyService).apply(decodeEvent('change-batch', msgs[2]![1]), 3, subj.changes(src.source, 'users'));
    expect(r.applied).toBe(false);
    expect(await store.apply.appliedSequence('merkle')).toBe(5);
    expect((await store.apply.tableRoots()).map((t) => toHex(t.root))).toEqual(before);
    expect(app.get(StateHolder).peek()?.log.size).toBe(15);
    await stop(app);
  });

  it('signs a checkpoint after T ms with changes pending, and none without changes', async () => {
    const sc = await bus.scenario('b');
    const config = testConfig(db, sc, { MERKLE_CHECKPOINT_EVERY_CHANGES: '1000', MERKLE_CHECKPOINT_EVERY_MS: '1000' });
    const src = new SyntheticSource(`src-${bus.id}-b`);
    const clock = new ManualClock();
    const scheduler = new ManualScheduler();
    const app = await start(config, { clock, scheduler });
    const store = storeOf(db, config);
    const cps = app.get(CheckpointService);

    scheduler.fire();
    expect(await cps.tick()).toBeUndefined(); // nothing applied yet
    const seq = (await bus.js.publish(busSubjects(sc.prefix).changes(src.source, 't'), src.batch('t', [{ pk: 'a', row: '1' }, { pk: 'b', row: '2' }]))).seq;
    await waitApplied(store, 'merkle', seq);
    expect(await cps.tick()).toBeUndefined(); // changes pending, but T has not passed
    clock.advance(999);
    expect(await cps.tick()).toBeUndefined();
    clock.advance(1);
    scheduler.fire(); // the timer path
    const cp = await waitFor('checkpoint 1', async () => store.checkpoints.latest('global'));
    expect(cp.seq).toBe(1);
    expect(cp.logSize).toBe(2);
    const v = verifyCheckpoint(cp.note, policy());
    expect(v.ok && toHex(v.checkpoint.stateRoot!)).toBe(toHex(stateRoot(suite, src.expectedTables())));
    clock.advance(5000);
    expect(await cps.tick()).toBeUndefined(); // nothing changed since checkpoint 1
    expect((await store.checkpoints.list('global')).length).toBe(1);
    await stop(app);
  });

  it('reloads the in-memory state after a failed persist (rolled back, and committed-but-reported-failed)', async () => {
    const sc = await bus.scenario('c');
    const config = testConfig(db, sc, { MERKLE_CHECKPOINT_EVERY_CHANGES: '4' });
    const src = new SyntheticSource(`src-${bus.id}-c`);
    const failures = new Map<number, 'before-commit' | 'after-commit'>([
      [2, 'before-commit'],
      [4, 'after-commit'],
    ]);
    const wrapStore = (s: MerkleStore): MerkleStore => {
      const applyBatch: MerkleStore['apply']['applyBatch'] = async (consumer, seq, work) => {
        // A transaction persists a group of messages under the last one's sequence (group commit): it fails
        // when the group contains a message with an injected failure (one message per group: exactly seq).
        const key = [...failures.keys()].filter((k) => k <= seq).sort((a, b) => a - b)[0] ?? -1;
        const mode = failures.get(key);
        failures.delete(key);
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
      const apply = new Proxy(s.apply, { get: (t, p) => (p === 'applyBatch' ? applyBatch : (Reflect.get(t, p, t) as unknown)) });
      return { ...s, apply };
    };
    const app = await start(config, { wrapStore, retryBackoffMs: [50] });
    const subj = busSubjects(sc.prefix);
    const msgs = [
      src.batch('t', [{ pk: 'a', row: '1' }, { pk: 'b', row: '1' }]),
      src.batch('t', [{ pk: 'a', row: '2' }, { pk: 'c', row: '1' }, { pk: 'd', row: '1' }]),
      src.batch('t', [{ pk: 'b', row: null }]),
      src.batch('t', [{ pk: 'e', row: '1' }, { pk: 'c', row: '2' }]),
      src.batch('t', [{ pk: 'f', row: '1' }]),
    ];
    let last = 0;
    for (const m of msgs) last = (await bus.js.publish(subj.changes(src.source, 't'), m)).seq;
    const store = storeOf(db, config);
    await waitApplied(store, 'merkle', last);
    await waitFor('state at the last sequence', () => app.get(StateHolder).peek()?.sequence === last);
    expect(failures.size).toBe(0);
    expect(app.get(StateHolder).loads).toBeGreaterThanOrEqual(3);
    await expectRoots(store, src);
    const log = expectedLog(msgs);
    expect((await store.logs.head('global'))?.size).toBe(log.size);
    expect(toHex(await store.logs.root('global', log.size))).toBe(toHex(log.root()));
    expect(toHex(app.get(StateHolder).peek()!.log.root())).toBe(toHex(log.root()));
    // The chain survived the failures: consecutive, each over a prefix of the same log.
    const cps = await store.checkpoints.list('global');
    expect(cps.length).toBeGreaterThanOrEqual(2);
    for (const c of cps) expect(toHex(c.logRoot)).toBe(toHex(log.root(c.logSize)));
    await stop(app);
  });

  it('restarts mid-stream to the same roots, and a rebuild from the stream reproduces them', async () => {
    const sc = await bus.scenario('d');
    const config = testConfig(db, sc);
    const src = new SyntheticSource(`src-${bus.id}-d`);
    const subj = busSubjects(sc.prefix);
    const tables = ['t1', 't2'];
    const msgs = Array.from({ length: 8 }, (_, i) =>
      src.batch(tables[i % 2]!, Array.from({ length: 5 }, (_, j) => ({ pk: `k${(i * 3 + j) % 11}`, row: (i + j) % 4 === 3 ? null : `v${i}.${j}` }))),
    );
    const store = storeOf(db, config);
    const first = await start(config);
    let seq = 0;
    for (const m of msgs.slice(0, 4)) seq = (await bus.js.publish(subj.changes(src.source, tables[msgs.indexOf(m) % 2]!), m)).seq;
    await waitApplied(store, 'merkle', seq);
    await stop(first);
    for (const [i, m] of msgs.entries()) if (i >= 4) seq = (await bus.js.publish(subj.changes(src.source, tables[i % 2]!), m)).seq;
    const second = await start(config);
    await waitApplied(store, 'merkle', seq);
    expect(second.get(StateHolder).peek()?.sequence).toBe(seq);
    await expectRoots(store, src);
    const log = expectedLog(msgs);
    expect(toHex(await store.logs.root('global', log.size))).toBe(toHex(log.root()));
    await stop(second);

    // Rebuild: fresh schema, new durable consumer from the first message.
    const rebuilt = testConfig(db, sc, { MERKLE_DB_SCHEMA: `m_${sc.prefix}_rebuild`, MERKLE_CONSUMER: 'merkle-rebuild' });
    const rstore = storeOf(db, rebuilt);
    const third = await start(rebuilt);
    await waitApplied(rstore, 'merkle-rebuild', seq);
    expect((await rstore.apply.tableRoots()).map((t) => [t.table, toHex(t.root)])).toEqual((await store.apply.tableRoots()).map((t) => [t.table, toHex(t.root)]));
    expect(toHex(await rstore.logs.root('global', log.size))).toBe(toHex(log.root()));
    await stop(third);
  });

  it('dead-letters malformed messages and keeps going', async () => {
    const sc = await bus.scenario('e');
    const config = testConfig(db, sc);
    const src = new SyntheticSource(`src-${bus.id}-e`);
    const subj = busSubjects(sc.prefix);
    const app = await start(config);
    const store = storeOf(db, config);
    await bus.js.publish(subj.changes(src.source, 'users'), new Uint8Array([0xff, 0x01, 0x02]));
    const other = new SyntheticSource(src.source);
    await bus.js.publish(subj.changes(src.source, 'users'), other.batch('orders', [{ pk: 'x', row: '1' }])); // wrong subject
    const seq = (await bus.js.publish(subj.changes(src.source, 'users'), src.batch('users', [{ pk: 'u', row: '1' }]))).seq;
    await waitApplied(store, 'merkle', seq);
    await expectRoots(store, src);
    const dlq = await waitFor('2 dead letters', async () => {
      const m = await streamMessages(sc.streams.dlq);
      return m.length >= 2 ? m : undefined;
    });
    expect(dlq.map((m) => m.header('Ms-Error-Code'))).toEqual(['MALFORMED_PAYLOAD', 'MALFORMED_PAYLOAD']);
    expect(dlq.map((m) => m.header('Ms-Original-Sequence'))).toEqual(['1', '2']);
    expect((await store.logs.head('global'))?.size).toBe(1);
    await stop(app);
  });
});
