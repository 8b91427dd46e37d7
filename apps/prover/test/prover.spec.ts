// Two prover instances (one queue group) over a store populated through libs/store, against the real
// Postgres and NATS. Every proof returned must verify with libs/merkle against the stored roots.
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { create, fromBinary, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { CachedMapNodeSource } from '@merklesync/store';
import { equalBytes, getHashSuite, toHex, verifyProof } from '@merklesync/merkle';
import {
  GenerateProofRequestSchema,
  GenerateProofResponseSchema,
  GetCheckpointRequestSchema,
  GetCheckpointResponseSchema,
  LogConsistencyProofSchema,
  ProofSchema,
  proofFromMessage,
  stateRoot,
  verifyTableRootProof,
} from '@merklesync/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProverModule } from '../src/app.module.ts';
import { MAP_ROOT_HEADER, ProverRequestKind as K } from '../src/bus/subjects.ts';
import { parseProverConfig } from '../src/config.ts';
import { ProofRpcServer } from '../src/proofs/proof-rpc.server.ts';
import { MAP_NODES } from '../src/tokens.ts';
import { ProverClient, type Reply } from './support/client.ts';
import { Fixture, SCHEMA } from './support/fixture.ts';
import { createTestDb, rng, type TestDb } from '@merklesync/testkit';

const suite = getHashSuite('sha256');
const rand = rng(7);
const USERS = { source: 'pg', table: 'public.users' };
const ORDERS = { source: 'pg', table: 'public.orders' };

let db: TestDb;
let fx: Fixture;
let apps: INestApplicationContext[] = [];
let nc: NatsConnection;
let client: ProverClient;
let usersV1: { root: Uint8Array; key: Uint8Array; value: Uint8Array };
let deletedUsers: Uint8Array[];

const genReq = (init: MessageInitShape<typeof GenerateProofRequestSchema>): Uint8Array =>
  toBinary(GenerateProofRequestSchema, create(GenerateProofRequestSchema, init));
const mapReq = (t: { source: string; table: string }, keys: Uint8Array[], checkpointSequence = 0n): Uint8Array =>
  genReq({ target: { case: 'mapKeys', value: { ...t, mapKeys: keys } }, checkpointSequence });

async function ok(kind: (typeof K)[keyof typeof K], data: Uint8Array, hdrs?: Record<string, string>): Promise<Uint8Array> {
  const r = await client.request(kind, data, hdrs);
  expect(r.status, r.message).toBe('OK');
  return r.data;
}
const genRes = (b: Uint8Array) => fromBinary(GenerateProofResponseSchema, b);
const rowsOf = (t: { source: string; table: string }) => fx.tables.get(`${t.source}/${t.table}`)!;
const keysOf = (t: { source: string; table: string }) => [...rowsOf(t).rows.keys()].map((h) => Uint8Array.from(Buffer.from(h, 'hex')));

async function startProver(prefix: string): Promise<INestApplicationContext> {
  const config = parseProverConfig({
    PROVER_DATABASE_URL: db.url,
    PROVER_DB_SCHEMA: SCHEMA,
    PROVER_DB_POOL_MAX: '4',
    PROVER_SUBJECT_PREFIX: prefix,
    PROVER_QUEUE_GROUP: 'prover',
    PROVER_MAX_MULTI_KEYS: '500',
  });
  return NestFactory.createApplicationContext(ProverModule.forRoot(config), { logger: ['error', 'warn'] });
}

beforeAll(async () => {
  db = await createTestDb({ prefix: 'ms_prover' });
  fx = new Fixture(db.pool);
  await fx.store.migrate();
  const users = Array.from({ length: 200 }, () => ({ key: rand(32), value: rand(32) }));
  await fx.apply(
    [
      { ...USERS, ops: users },
      { ...ORDERS, ops: Array.from({ length: 100 }, () => ({ key: rand(32), value: rand(32) })) },
    ],
    true,
  );
  usersV1 = { root: rowsOf(USERS).root, key: users[0]!.key, value: users[0]!.value };
  deletedUsers = users.slice(10, 15).map((u) => u.key);
  // Second batch: new rows, updated rows (the first one included), deleted rows; checkpoint 2.
  await fx.apply(
    [
      {
        ...USERS,
        ops: [
          ...Array.from({ length: 100 }, () => ({ key: rand(32), value: rand(32) })),
          ...users.slice(0, 10).map((u) => ({ key: u.key, value: rand(32) })),
          ...users.slice(10, 15).map((u) => ({ key: u.key, value: null })),
        ],
      },
    ],
    true,
  );
  const prefix = `test.prover.${randomBytes(6).toString('hex')}`;
  apps = [await startProver(prefix), await startProver(prefix)];
  nc = await connect({ servers: '127.0.0.1:4222' });
  client = new ProverClient(nc, prefix);
});

afterAll(async () => {
  await Promise.all(apps.map((a) => a.close()));
  await nc?.close();
  await db?.drop();
});

describe('map proofs', () => {
  it('membership proofs for stored keys verify against the current root and are anchored in the latest checkpoint', async () => {
    const t = rowsOf(USERS);
    for (const key of keysOf(USERS).slice(0, 40)) {
      const res = genRes(await ok(K.MapProve, mapReq(USERS, [key])));
      const p = proofFromMessage(res.proof!);
      expect(p.kind).toBe('map-membership');
      expect(verifyProof(p)).toBe(true);
      if (p.kind !== 'map-membership') throw new Error('unreachable');
      expect(toHex(p.root)).toBe(toHex(t.root));
      expect(toHex(p.value)).toBe(toHex(t.rows.get(toHex(key))!));
      // Anchored: the table root is in the checkpoint's state root.
      expect(res.checkpoint?.sequence).toBe(2n);
      expect(toHex(res.tableRootProof!.tableRoot)).toBe(toHex(t.root));
      expect(toHex(res.tableRootProof!.stateRoot)).toBe(toHex(res.checkpoint!.stateRoot));
      expect(verifyTableRootProof(suite, res.tableRootProof!, { stateRoot: res.checkpoint!.stateRoot, ...USERS, tableRoot: t.root })).toBe(true);
    }
  });

  it('non-membership proofs for absent and deleted keys verify', async () => {
    for (const k of deletedUsers) expect(rowsOf(USERS).rows.has(toHex(k))).toBe(false);
    for (const key of [...deletedUsers, ...Array.from({ length: 20 }, () => rand(32))]) {
      const res = genRes(await ok(K.MapProve, mapReq(USERS, [key])));
      const p = proofFromMessage(res.proof!);
      expect(p.kind).toBe('map-non-membership');
      expect(verifyProof(p)).toBe(true);
    }
  });

  it('a multiproof of present and absent keys verifies and carries the right values', async () => {
    const t = rowsOf(USERS);
    const keys = [...keysOf(USERS).slice(50, 150), ...Array.from({ length: 30 }, () => rand(32))];
    const res = genRes(await ok(K.MapMulti, mapReq(USERS, keys)));
    const p = proofFromMessage(res.proof!);
    expect(p.kind).toBe('map-multi');
    expect(verifyProof(p)).toBe(true);
    if (p.kind !== 'map-multi') throw new Error('unreachable');
    expect(p.entries).toHaveLength(130);
    for (const e of p.entries) {
      const want = t.rows.get(toHex(e.key));
      expect(e.value === null ? undefined : toHex(e.value)).toBe(want === undefined ? undefined : toHex(want));
    }
    expect(verifyTableRootProof(suite, res.tableRootProof!, { stateRoot: res.checkpoint!.stateRoot, ...USERS, tableRoot: t.root })).toBe(true);
  });

  it('proofs at an older checkpoint use the root it committed to: old values, deleted keys present, anchored in it', async () => {
    const cp1 = (await fx.store.checkpoints.bySeq('global', 1))!;
    const at1 = fx.atCheckpoint.get(1)!.get('pg/public.users')!;
    expect(toHex(at1.root)).toBe(toHex(usersV1.root));
    const keys = [usersV1.key, ...deletedUsers];
    for (const key of keys) {
      const res = genRes(await ok(K.MapProve, mapReq(USERS, [key], 1n)));
      const p = proofFromMessage(res.proof!);
      expect(verifyProof(p)).toBe(true);
      if (p.kind !== 'map-membership') throw new Error(`expected membership at checkpoint 1, got ${p.kind}`);
      expect(toHex(p.root)).toBe(toHex(at1.root));
      expect(toHex(p.value)).toBe(toHex(at1.rows.get(toHex(key))!));
      expect(res.checkpoint?.sequence).toBe(1n);
      expect(toHex(res.checkpoint!.stateRoot)).toBe(toHex(cp1.stateRoot));
      expect(verifyTableRootProof(suite, res.tableRootProof!, { stateRoot: cp1.stateRoot, ...USERS, tableRoot: p.root })).toBe(true);
    }
    const multi = genRes(await ok(K.MapMulti, mapReq(ORDERS, keysOf(ORDERS).slice(0, 5), 1n)));
    expect(verifyProof(proofFromMessage(multi.proof!))).toBe(true);
    expect(verifyTableRootProof(suite, multi.tableRootProof!, { stateRoot: cp1.stateRoot, ...ORDERS })).toBe(true);
  });

  it('an explicit historical root (header) proves the old value, unanchored', async () => {
    const res = genRes(await ok(K.MapProve, mapReq(USERS, [usersV1.key]), { [MAP_ROOT_HEADER]: toHex(usersV1.root) }));
    const p = proofFromMessage(res.proof!);
    expect(verifyProof(p)).toBe(true);
    if (p.kind !== 'map-membership') throw new Error('expected membership');
    expect(toHex(p.root)).toBe(toHex(usersV1.root));
    expect(toHex(p.value)).toBe(toHex(usersV1.value));
    expect(res.checkpoint).toBeUndefined();
    expect(res.tableRootProof).toBeUndefined();
  });

  it('the cache-hit path returns byte-identical proofs', async () => {
    const caches = apps.map((a) => a.get<CachedMapNodeSource>(MAP_NODES));
    const hits = () => caches.reduce((n, c) => n + c.stats.hits, 0);
    const req = mapReq(ORDERS, [keysOf(ORDERS)[3]!]);
    const first = await ok(K.MapProve, req);
    const before = hits();
    for (let i = 0; i < 6; i++) expect(Buffer.compare(await ok(K.MapProve, req), first)).toBe(0);
    expect(hits()).toBeGreaterThan(before);
    const multi = mapReq(ORDERS, keysOf(ORDERS).slice(0, 20));
    const m1 = await ok(K.MapMulti, multi);
    expect(Buffer.compare(await ok(K.MapMulti, multi), m1)).toBe(0);
  });
});

describe('log proofs and checkpoints', () => {
  it('inclusion proofs verify, at explicit sizes and at a checkpoint size', async () => {
    const cp1 = (await fx.store.checkpoints.bySeq('global', 1))!;
    for (const [index, size] of [
      [0, 1],
      [5, 17],
      [299, 300],
      [123, fx.log.size],
    ] as const) {
      const res = genRes(await ok(K.LogInclusion, genReq({ target: { case: 'logInclusion', value: { leafIndex: BigInt(index), treeSize: BigInt(size) } } })));
      const p = proofFromMessage(res.proof!);
      expect(verifyProof(p)).toBe(true);
      if (p.kind !== 'log-inclusion') throw new Error('unreachable');
      expect(toHex(p.root)).toBe(toHex(fx.log.root(size)));
      expect(toHex(p.leafHash)).toBe(toHex(fx.log.leafHash(index)));
      expect(res.checkpoint).toBeUndefined();
    }
    const res = genRes(await ok(K.LogInclusion, genReq({ target: { case: 'logInclusion', value: { leafIndex: 7n } }, checkpointSequence: 1n })));
    const p = proofFromMessage(res.proof!);
    expect(verifyProof(p)).toBe(true);
    if (p.kind !== 'log-inclusion') throw new Error('unreachable');
    expect(p.treeSize).toBe(cp1.logSize);
    expect(toHex(p.root)).toBe(toHex(cp1.logRoot));
    expect(res.checkpoint?.sequence).toBe(1n);
  });

  it('consistency proofs verify; size2 0 means the latest checkpoint', async () => {
    const latest = (await fx.store.checkpoints.latest('global'))!;
    for (const [a, b] of [
      [1, 2],
      [3, 300],
      [64, 128],
      [300, fx.log.size],
      [fx.log.size, fx.log.size],
    ] as const) {
      const res = genRes(await ok(K.LogConsistency, genReq({ target: { case: 'logConsistency', value: { size1: BigInt(a), size2: BigInt(b) } } })));
      const p = proofFromMessage(res.proof!);
      expect(verifyProof(p)).toBe(true);
      if (p.kind !== 'log-consistency') throw new Error('unreachable');
      expect(toHex(p.root2)).toBe(toHex(fx.log.root(b)));
    }
    const res = genRes(await ok(K.LogConsistency, genReq({ target: { case: 'logConsistency', value: { size1: 10n } } })));
    const p = proofFromMessage(res.proof!);
    expect(verifyProof(p)).toBe(true);
    if (p.kind !== 'log-consistency') throw new Error('unreachable');
    expect(toHex(p.root2)).toBe(toHex(latest.logRoot));
    expect(res.checkpoint?.sequence).toBe(BigInt(latest.seq));
  });

  it('checkpoint.latest and checkpoint.get return the stored notes, with consistency on request', async () => {
    const cp1 = (await fx.store.checkpoints.bySeq('global', 1))!;
    const cp2 = (await fx.store.checkpoints.latest('global'))!;
    const latest = fromBinary(GetCheckpointResponseSchema, await ok(K.CheckpointLatest, new Uint8Array(0)));
    expect(latest.checkpoint?.sequence).toBe(2n);
    expect(new TextDecoder().decode(latest.checkpoint!.signedNote)).toBe(cp2.note);
    expect(latest.checkpoint?.origin).toBe('prover.test/log');
    expect(toHex(latest.checkpoint!.stateRoot)).toBe(toHex(stateRoot(suite, [...fx.tables.values()])));
    const got = fromBinary(
      GetCheckpointResponseSchema,
      await ok(K.CheckpointGet, toBinary(GetCheckpointRequestSchema, create(GetCheckpointRequestSchema, { sequence: 2n, consistencyFromSize: BigInt(cp1.logSize) }))),
    );
    expect(got.checkpoint?.logSize).toBe(BigInt(cp2.logSize));
    const c = proofFromMessage(create(ProofSchema, { proof: { case: 'logConsistency', value: got.consistency ?? create(LogConsistencyProofSchema) } }));
    expect(verifyProof(c)).toBe(true);
    if (c.kind !== 'log-consistency') throw new Error('unreachable');
    expect(equalBytes(c.root1, cp1.logRoot) && equalBytes(c.root2, cp2.logRoot)).toBe(true);
  });
});

describe('errors', () => {
  const cases: [string, (typeof K)[keyof typeof K], () => Uint8Array, string, Record<string, string>?][] = [
    ['garbage payload', K.MapProve, () => Uint8Array.from([0xff, 0xff, 0xff]), 'INVALID_ARGUMENT'],
    ['two keys on map.prove', K.MapProve, () => mapReq(USERS, [rand(32), rand(32)]), 'INVALID_ARGUMENT'],
    ['short key', K.MapProve, () => mapReq(USERS, [rand(31)]), 'INVALID_ARGUMENT'],
    ['no keys on map.multi', K.MapMulti, () => mapReq(USERS, []), 'INVALID_ARGUMENT'],
    ['too many keys on map.multi', K.MapMulti, () => mapReq(USERS, Array.from({ length: 501 }, () => rand(32))), 'INVALID_ARGUMENT'],
    ['wrong target', K.MapProve, () => genReq({ target: { case: 'logInclusion', value: { leafIndex: 1n, treeSize: 2n } } }), 'INVALID_ARGUMENT'],
    ['unknown table', K.MapProve, () => mapReq({ source: 'pg', table: 'public.nope' }, [rand(32)]), 'NOT_FOUND'],
    ['unknown checkpoint', K.MapProve, () => mapReq(USERS, [rand(32)], 99n), 'NOT_FOUND'],
    ['unknown map root', K.MapProve, () => mapReq(USERS, [rand(32)]), 'NOT_FOUND', { [MAP_ROOT_HEADER]: 'ab'.repeat(32) }],
    ['malformed map root', K.MapProve, () => mapReq(USERS, [rand(32)]), 'INVALID_ARGUMENT', { [MAP_ROOT_HEADER]: 'xyz' }],
    ['leaf index ≥ size', K.LogInclusion, () => genReq({ target: { case: 'logInclusion', value: { leafIndex: 5n, treeSize: 5n } } }), 'INVALID_ARGUMENT'],
    ['size beyond the log', K.LogInclusion, () => genReq({ target: { case: 'logInclusion', value: { leafIndex: 1n, treeSize: 1_000_000n } } }), 'OUT_OF_RANGE'],
    ['size and checkpoint', K.LogInclusion, () => genReq({ target: { case: 'logInclusion', value: { leafIndex: 1n, treeSize: 5n } }, checkpointSequence: 1n }), 'INVALID_ARGUMENT'],
    ['size1 0', K.LogConsistency, () => genReq({ target: { case: 'logConsistency', value: { size1: 0n, size2: 5n } } }), 'INVALID_ARGUMENT'],
    ['size1 > size2', K.LogConsistency, () => genReq({ target: { case: 'logConsistency', value: { size1: 6n, size2: 5n } } }), 'INVALID_ARGUMENT'],
    ['above 2^53', K.LogConsistency, () => genReq({ target: { case: 'logConsistency', value: { size1: 1n, size2: 1n << 60n } } }), 'INVALID_ARGUMENT'],
    ['checkpoint.get without sequence', K.CheckpointGet, () => new Uint8Array(0), 'INVALID_ARGUMENT'],
    ['unknown checkpoint.get', K.CheckpointGet, () => toBinary(GetCheckpointRequestSchema, create(GetCheckpointRequestSchema, { sequence: 42n })), 'NOT_FOUND'],
    ['consistency from beyond', K.CheckpointLatest, () => toBinary(GetCheckpointRequestSchema, create(GetCheckpointRequestSchema, { consistencyFromSize: 1n << 40n })), 'INVALID_ARGUMENT'],
  ];
  it.each(cases)('%s → typed error', async (_name, kind, data, status, hdrs) => {
    const r: Reply = await client.request(kind, data(), hdrs);
    expect(r.status).toBe(status);
    expect(r.data.length).toBe(0);
    expect(r.message).toBeTruthy();
  });

  it('instances stay healthy after errors', async () => {
    expect(genRes(await ok(K.MapProve, mapReq(USERS, [rand(32)]))).proof).toBeDefined();
  });
});

describe('scaling', () => {
  it('200 concurrent requests are shared by both instances, every proof verifies', async () => {
    const before = apps.map((a) => a.get(ProofRpcServer).stats.ok);
    const keys = keysOf(USERS);
    const replies = await Promise.all(Array.from({ length: 200 }, (_, i) => ok(K.MapProve, mapReq(USERS, [keys[i % keys.length]!]))));
    for (const b of replies) expect(verifyProof(proofFromMessage(genRes(b).proof!))).toBe(true);
    const served = apps.map((a, i) => a.get(ProofRpcServer).stats.ok - before[i]!);
    expect(served[0]! + served[1]!).toBe(200);
    expect(served[0]).toBeGreaterThan(0);
    expect(served[1]).toBeGreaterThan(0);
  });

  it('after a batch without a checkpoint, proofs stay anchored at the latest checkpoint; the new root is reachable by name', async () => {
    const key = rand(32);
    await fx.apply([{ ...ORDERS, ops: [{ key, value: rand(32) }] }], false);
    const cp2 = (await fx.store.checkpoints.latest('global'))!;
    const res = genRes(await ok(K.MapProve, mapReq(ORDERS, [key])));
    const p = proofFromMessage(res.proof!);
    expect(p.kind).toBe('map-non-membership');
    expect(verifyProof(p)).toBe(true);
    expect(res.checkpoint?.sequence).toBe(BigInt(cp2.seq));
    expect(verifyTableRootProof(suite, res.tableRootProof!, { stateRoot: cp2.stateRoot, ...ORDERS, tableRoot: (p as { root: Uint8Array }).root })).toBe(true);
    const cur = genRes(await ok(K.MapProve, mapReq(ORDERS, [key]), { [MAP_ROOT_HEADER]: toHex(rowsOf(ORDERS).root) }));
    expect(proofFromMessage(cur.proof!).kind).toBe('map-membership');
    expect(cur.checkpoint).toBeUndefined();
  });

  it('a checkpoint stored without its table roots: latest falls back to current roots, unanchored when they moved; by sequence NOT_FOUND', async () => {
    await fx.apply([{ ...ORDERS, ops: [{ key: rand(32), value: rand(32) }] }], true, false);
    const legacy = fx.checkpointSeq;
    await fx.apply([{ ...ORDERS, ops: [{ key: rand(32), value: rand(32) }] }], false);
    const deadline = Date.now() + 5000;
    let res = genRes(await ok(K.MapProve, mapReq(ORDERS, [rand(32)])));
    // The head caches (100 ms) may still hold checkpoint 2: wait for the legacy one to be the latest.
    while (res.checkpoint !== undefined && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      res = genRes(await ok(K.MapProve, mapReq(ORDERS, [rand(32)])));
    }
    expect(res.checkpoint).toBeUndefined();
    expect(toHex((proofFromMessage(res.proof!) as { root: Uint8Array }).root)).toBe(toHex(rowsOf(ORDERS).root));
    expect((await client.request(K.MapProve, mapReq(ORDERS, [rand(32)], BigInt(legacy)))).status).toBe('NOT_FOUND');
  });
});
