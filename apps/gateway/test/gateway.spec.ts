// The gateway over real gRPC (connect-node client, HTTP/2) and real HTTP, against a store populated through
// libs/store in its own database and the real prover (its bundle, as a child process) on a random prefix.
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import { Code, createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createPolicy, verifyCheckpoint } from '@merklesync/crypto';
import { getHashSuite, proofFromJson, toHex, verifyProof } from '@merklesync/merkle';
import {
  MerkleSyncService,
  ProofSchema,
  proofFromMessage,
  stateRoot,
  verifyTableRootProof,
  type SyncRequestResponse,
} from '@merklesync/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGatewayConfig } from '../src/config.ts';
import { GrpcServer } from '../src/grpc/grpc.server.ts';
import { createGatewayApp } from '../src/http-app.ts';
import { Fixture, LOG_ID, ORIGIN, SCHEMA, type RowChange } from './support/fixture.ts';
import { createTestDb, rng, type TestDb } from '@merklesync/testkit';
import { startProver, type ProverProcess } from './support/prover-process.ts';
import { getJson, grpcCode } from './support/calls.ts';

const suite = getHashSuite('sha256');
const rand = rng(11);
const USERS = { source: 'pg', table: 'public.users' };
const ORDERS = { source: 'pg', table: 'public.orders' };
const row = (): RowChange['row'] => ({ block: rand(40 + (rand(1)[0]! % 60)), commitment: rand(32) });

let db: TestDb;
let fx: Fixture;
let nc: NatsConnection;
let prover: ProverProcess;
let app: NestFastifyApplication;
let base: string;
let grpc: Client<typeof MerkleSyncService>;
const batch2 = { added: [] as Uint8Array[], updated: [] as Uint8Array[], deleted: [] as Uint8Array[] };
let users1: Uint8Array[];

const http = (path: string): ReturnType<typeof getJson> => getJson(`${base}${path}`);

const policy = () => createPolicy({ origin: ORIGIN, log: fx.verifier, witnesses: [], threshold: 0 });

beforeAll(async () => {
  db = await createTestDb({ prefix: 'ms_gateway' });
  fx = new Fixture(db.pool);
  await fx.store.migrate();
  users1 = Array.from({ length: 50 }, () => rand(32));
  await fx.apply(
    [
      { ...USERS, rows: users1.map((key) => ({ key, row: row() })) },
      { ...ORDERS, rows: Array.from({ length: 20 }, () => ({ key: rand(32), row: row() })) },
    ],
    true,
  );
  batch2.added = Array.from({ length: 10 }, () => rand(32));
  batch2.updated = users1.slice(0, 5);
  batch2.deleted = users1.slice(5, 8);
  await fx.apply(
    [
      {
        ...USERS,
        rows: [...batch2.added.map((key) => ({ key, row: row() })), ...batch2.updated.map((key) => ({ key, row: row() })), ...batch2.deleted.map((key) => ({ key, row: null }))],
      },
    ],
    true,
  );
  nc = await connect({ servers: '127.0.0.1:4222' });
  const prefix = `test.gw.${randomBytes(6).toString('hex')}`;
  prover = await startProver({ PROVER_DATABASE_URL: db.url, PROVER_DB_SCHEMA: SCHEMA, PROVER_DB_POOL_MAX: '2', PROVER_SUBJECT_PREFIX: prefix, PROVER_HEAD_TTL_MS: '0' }, nc, prefix);
  const config = parseGatewayConfig({
    GATEWAY_HTTP_PORT: '0',
    GATEWAY_GRPC_PORT: '0',
    GATEWAY_GRPC_HOST: '127.0.0.1',
    GATEWAY_DATABASE_URL: db.url,
    GATEWAY_DB_SCHEMA: SCHEMA,
    GATEWAY_DB_POOL_MAX: '4',
    GATEWAY_PROVER_PREFIX: prefix,
    GATEWAY_WATCH_POLL_MS: '20',
    GATEWAY_SYNC_PAGE_SIZE: '16',
  });
  app = await createGatewayApp(config, ['error', 'warn']);
  await app.listen(0, '127.0.0.1');
  base = await app.getUrl();
  base = base.replace('[::1]', '127.0.0.1');
  grpc = createClient(MerkleSyncService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${app.get(GrpcServer).port}` }));
});

afterAll(async () => {
  await app?.close();
  await prover?.stop();
  await nc?.close();
  await db?.drop();
});

describe('checkpoints and roots', () => {
  it('GetCheckpoint (gRPC) returns the latest signed checkpoint, which verifies, with a consistency proof', async () => {
    const r = await grpc.getCheckpoint({ consistencyFromSize: BigInt(fx.checkpoints.get(1)!.logSize) });
    expect(r.checkpoint?.sequence).toBe(2n);
    expect(verifyCheckpoint(new TextDecoder().decode(r.checkpoint!.signedNote), policy()).ok).toBe(true);
    const c = proofFromMessage(create(ProofSchema, { proof: { case: 'logConsistency', value: r.consistency! } }));
    expect(verifyProof(c)).toBe(true);
    const one = await grpc.getCheckpoint({ sequence: 1n });
    expect(one.checkpoint?.logSize).toBe(BigInt(fx.checkpoints.get(1)!.logSize));
  });

  it('REST checkpoints: latest and by sequence, hex roots, the note verifies', async () => {
    const r = await http('/v1/checkpoints/latest?consistencyFromSize=3');
    expect(r.status).toBe(200);
    const cp = r.body['checkpoint'] as Record<string, unknown>;
    expect(cp['sequence']).toBe(2);
    expect(cp['stateRoot']).toBe(toHex(stateRoot(suite, [...fx.tables.values()])));
    expect(verifyCheckpoint(cp['signedNote'] as string, policy()).ok).toBe(true);
    expect(verifyProof(proofFromJson(JSON.stringify(r.body['consistency'])))).toBe(true);
    expect((await http('/v1/checkpoints/1')).body['checkpoint']).toMatchObject({ sequence: 1 });
    expect((await http('/v1/checkpoints/9')).status).toBe(404);
    expect((await http('/v1/checkpoints/x1')).status).toBe(400);
  });

  it('GetMerkleRoot: the state root and a table root', async () => {
    const s = await grpc.getMerkleRoot({});
    expect(toHex(s.root)).toBe(toHex(stateRoot(suite, [...fx.tables.values()])));
    const t = await grpc.getMerkleRoot(USERS);
    expect(toHex(t.root)).toBe(toHex(fx.tables.get('pg/public.users')!.root));
    expect((await http('/v1/roots/pg/public.orders')).body['root']).toBe(toHex(fx.tables.get('pg/public.orders')!.root));
    expect((await http('/v1/roots')).body['tableCount']).toBe(2);
  });
});

describe('blocks', () => {
  it('GetBlock returns the stored ciphertext with a map proof and a table-root proof that verify', async () => {
    const t = fx.tables.get('pg/public.users')!;
    for (const key of [...batch2.added.slice(0, 3), ...batch2.updated.slice(0, 2), users1[20]!]) {
      const r = await grpc.getBlock({ ...USERS, mapKey: key });
      const want = t.rows.get(toHex(key))!;
      expect(toHex(r.block!.block)).toBe(toHex(want.block));
      const p = proofFromMessage(r.proof!);
      expect(verifyProof(p)).toBe(true);
      if (p.kind !== 'map-membership') throw new Error('expected membership');
      expect(toHex(p.value)).toBe(toHex(want.commitment));
      expect(verifyTableRootProof(suite, r.tableRootProof!, { stateRoot: r.checkpoint!.stateRoot, ...USERS, tableRoot: p.root })).toBe(true);
      expect(verifyCheckpoint(new TextDecoder().decode(r.checkpoint!.signedNote), policy()).ok).toBe(true);
    }
  });

  it('a deleted row: no block, a non-membership proof; at an older checkpoint a superseded row is a CONFLICT', async () => {
    const r = await grpc.getBlock({ ...USERS, mapKey: batch2.deleted[0]! });
    expect(r.block).toBeUndefined();
    const p = proofFromMessage(r.proof!);
    expect(p.kind).toBe('map-non-membership');
    expect(verifyProof(p)).toBe(true);
    // At checkpoint 1 an added row did not exist yet; an updated one only has its newer block.
    const before = await grpc.getBlock({ ...USERS, mapKey: batch2.added[0]!, checkpointSequence: 1n });
    expect(before.block).toBeUndefined();
    expect(await grpcCode(grpc.getBlock({ ...USERS, mapKey: batch2.updated[0]!, checkpointSequence: 1n }))).toBe(Code.FailedPrecondition);
    const unchanged = await grpc.getBlock({ ...USERS, mapKey: users1[30]!, checkpointSequence: 1n });
    expect(unchanged.checkpoint?.sequence).toBe(1n);
    expect(verifyProof(proofFromMessage(unchanged.proof!))).toBe(true);
  });

  it('REST block: hex JSON, the proof verifies; errors map to 400/404/409', async () => {
    const key = batch2.added[4]!;
    const r = await http(`/v1/blocks/pg/public.users/${toHex(key)}`);
    expect(r.status).toBe(200);
    expect((r.body['block'] as Record<string, unknown>)['block']).toBe(toHex(fx.tables.get('pg/public.users')!.rows.get(toHex(key))!.block));
    expect(verifyProof(proofFromJson(JSON.stringify(r.body['proof'])))).toBe(true);
    expect((await http(`/v1/blocks/pg/public.nope/${toHex(key)}`)).status).toBe(404);
    expect((await http(`/v1/blocks/pg/public.users/zz${toHex(key).slice(2)}`)).status).toBe(400);
    expect((await http(`/v1/blocks/pg/public.users/${toHex(key).slice(2)}`)).status).toBe(400);
    expect((await http(`/v1/blocks/pg/public.users/${toHex(batch2.updated[1]!)}?checkpoint=1`)).status).toBe(409);
    const bad = await http(`/v1/blocks/pg/public.users/abc`);
    expect(bad.body).toMatchObject({ error: 'INVALID_ARGUMENT' });
  });

  it('gRPC errors: unknown table → NOT_FOUND, short key → INVALID_ARGUMENT, SubmitBlock → UNIMPLEMENTED, an unverified transaction → NOT_FOUND', async () => {
    expect(await grpcCode(grpc.getBlock({ source: 'pg', table: 'public.nope', mapKey: rand(32) }))).toBe(Code.NotFound);
    expect(await grpcCode(grpc.getBlock({ ...USERS, mapKey: rand(31) }))).toBe(Code.InvalidArgument);
    expect(await grpcCode(grpc.getBlock({ ...USERS, mapKey: rand(32), checkpointSequence: 99n }))).toBe(Code.NotFound);
    expect(await grpcCode(grpc.submitBlock({}))).toBe(Code.Unimplemented);
    expect(await grpcCode(grpc.getVerificationResult({ transactionId: 'x' }))).toBe(Code.NotFound);
  });
});

describe('proofs', () => {
  it('GenerateProof (through the prover): map and log proofs verify; VerifyProof agrees and rejects tampering', async () => {
    const m = await grpc.generateProof({ target: { case: 'mapKeys', value: { ...USERS, mapKeys: [users1[40]!] } } });
    expect(verifyProof(proofFromMessage(m.proof!))).toBe(true);
    const v = await grpc.verifyProof({ proof: m.proof!, ...(m.checkpoint ? { checkpoint: m.checkpoint, tableRootProof: m.tableRootProof! } : {}) });
    expect(v.valid).toBe(true);
    const multi = await grpc.generateProof({ target: { case: 'mapKeys', value: { ...USERS, mapKeys: users1.slice(10, 20) } } });
    expect(proofFromMessage(multi.proof!).kind).toBe('map-multi');
    const inc = await grpc.generateProof({ target: { case: 'logInclusion', value: { leafIndex: 7n } } });
    expect(verifyProof(proofFromMessage(inc.proof!))).toBe(true);
    expect((await grpc.verifyProof({ proof: inc.proof!, checkpoint: inc.checkpoint! })).valid).toBe(true);
    const tampered = structuredClone(inc.proof!);
    if (tampered.proof.case === 'logInclusion') tampered.proof.value.leafIndex = 8n;
    expect((await grpc.verifyProof({ proof: tampered })).valid).toBe(false);
    expect(await grpcCode(grpc.generateProof({ target: { case: 'logInclusion', value: { leafIndex: 1n, treeSize: 1_000_000n } } }))).toBe(Code.OutOfRange);
    expect(await grpcCode(grpc.generateProof({}))).toBe(Code.InvalidArgument);
  });

  it('REST proofs: map and log', async () => {
    const r = await http(`/v1/proofs/map/pg/public.users/${toHex(users1[41]!)}`);
    expect(r.status).toBe(200);
    expect(verifyProof(proofFromJson(JSON.stringify(r.body['proof'])))).toBe(true);
    const c = await http('/v1/proofs/log/consistency?size1=5');
    expect(verifyProof(proofFromJson(JSON.stringify(c.body['proof'])))).toBe(true);
    expect((await http('/v1/proofs/log/inclusion')).status).toBe(400);
    expect((await http(`/v1/proofs/map/pg/public.nope/${toHex(users1[41]!)}`)).status).toBe(404);
  });
});

describe('diffs and sync', () => {
  const keySet = (ks: Uint8Array[]) => new Set(ks.map(toHex));

  it('DiffTrees between the two checkpoints: the changed and deleted keys, with a multiproof that verifies', async () => {
    const [r1, r2] = [fx.checkpoints.get(1)!.roots.get('pg/public.users')!, fx.checkpoints.get(2)!.roots.get('pg/public.users')!];
    const d = await grpc.diffTrees({ ...USERS, oldRoot: r1, newRoot: r2 });
    expect(keySet(d.changedBlocks.map((b) => b.mapKey))).toEqual(keySet([...batch2.added, ...batch2.updated]));
    expect(keySet(d.deletedKeys)).toEqual(keySet(batch2.deleted));
    for (const b of d.changedBlocks) expect(b.block.length).toBeGreaterThan(0);
    expect(verifyProof(proofFromMessage(create(ProofSchema, { proof: { case: 'mapMulti', value: d.proof! } })))).toBe(true);
    const rest = await http('/v1/diff/pg/public.users?from=1&to=2');
    expect((rest.body['deletedKeys'] as string[]).sort()).toEqual(batch2.deleted.map(toHex).sort());
    expect(await grpcCode(grpc.diffTrees({ ...USERS, oldRoot: rand(32), newRoot: r2 }))).toBe(Code.NotFound);
    expect((await http('/v1/diff/pg/public.users?oldRoot=12')).status).toBe(400);
  });

  async function collect(req: { sinceSequence?: bigint; tableFilters?: string[] }): Promise<SyncRequestResponse[]> {
    const out: SyncRequestResponse[] = [];
    for await (const m of grpc.syncRequest(req)) out.push(m);
    return out;
  }

  it('SyncRequest streams the changes after a checkpoint with proofs, the table roots and the target checkpoint', async () => {
    const msgs = await collect({ sinceSequence: 1n });
    const diffs = msgs.flatMap((m) => (m.message.case === 'diff' ? [m.message.value] : []));
    expect(keySet(diffs.flatMap((d) => d.changedBlocks.map((b) => b.mapKey)))).toEqual(keySet([...batch2.added, ...batch2.updated]));
    expect(keySet(diffs.flatMap((d) => d.deletedKeys))).toEqual(keySet(batch2.deleted));
    expect(diffs.length).toBeGreaterThan(1); // page size 16 < 18 changes
    for (const d of diffs) expect(verifyProof(proofFromMessage(create(ProofSchema, { proof: { case: 'mapMulti', value: d.proof! } })))).toBe(true);
    const last = msgs.at(-1)!;
    if (last.message.case !== 'syncComplete') throw new Error('expected sync_complete last');
    const cp = last.message.value.checkpoint!;
    expect(cp.sequence).toBe(2n);
    const roots = msgs.flatMap((m) => (m.message.case === 'tableRoot' ? [m.message.value] : []));
    expect(roots).toHaveLength(2);
    for (const t of roots) expect(verifyTableRootProof(suite, t, { stateRoot: cp.stateRoot })).toBe(true);
    expect(verifyProof(proofFromMessage(create(ProofSchema, { proof: { case: 'logConsistency', value: last.message.value.consistency! } })))).toBe(true);
  });

  it('a first sync of one table brings every row', async () => {
    const msgs = await collect({ tableFilters: ['pg/public.orders'] });
    const keys = msgs.flatMap((m) => (m.message.case === 'diff' ? m.message.value.changedBlocks.map((b) => toHex(b.mapKey)) : []));
    expect(new Set(keys)).toEqual(new Set(fx.tables.get('pg/public.orders')!.rows.keys()));
    expect(await grpcCode(collect({ tableFilters: ['pg/public.nope'] }))).toBe(Code.NotFound);
  });

  it('WatchCheckpoints streams the next checkpoints with consistency proofs', async () => {
    const ctl = new AbortController();
    const it = grpc.watchCheckpoints({ afterSequence: 1n }, { signal: ctl.signal })[Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.value?.checkpoint?.sequence).toBe(2n);
    await fx.apply([{ ...ORDERS, rows: [{ key: rand(32), row: row() }] }], true);
    const second = await it.next();
    expect(second.value?.checkpoint?.sequence).toBe(3n);
    const c = proofFromMessage(create(ProofSchema, { proof: { case: 'logConsistency', value: second.value!.consistency! } }));
    expect(verifyProof(c)).toBe(true);
    ctl.abort();
    await it.return?.();
  });
});

describe('OpenAPI', () => {
  it('serves a JSON OpenAPI 3 document listing every REST route', async () => {
    const r = await fetch(`${base}/openapi.json`);
    expect(r.status).toBe(200);
    const doc = (await r.json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths).sort()).toEqual(
      [
        '/v1/roots',
        '/v1/roots/{source}/{table}',
        '/v1/checkpoints/latest',
        '/v1/checkpoints/{seq}',
        '/v1/blocks/{source}/{table}/{mapKey}',
        '/v1/proofs/map/{source}/{table}/{mapKey}',
        '/v1/proofs/log/inclusion',
        '/v1/proofs/log/consistency',
        '/v1/diff/{source}/{table}',
        '/v1/verifications',
        '/v1/verifications/{transactionId}',
      ].sort(),
    );
    expect(LOG_ID).toBe('global');
  });
});
