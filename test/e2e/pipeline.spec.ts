// The product's main job, end to end, with every part real: PostgreSQL → ingest → JetStream → merkle → Postgres
// store → prover → gateway. Services run as built processes (`node dist/apps/<app>/main.js`); the test is the
// edge client (support/edge-client.ts: gRPC SyncRequest through the gateway, everything verified) and checks
// everything against values it computes itself from a plain SELECT * of the source tables.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Keyring,
  SignatureType,
  createPolicy,
  formatSignerKey,
  formatVerifierKey,
  fromPgText,
  generateSignerKey,
  serializeKeyFile,
  verifierKeyOf,
  verifyCheckpoint,
} from '@merklesync/crypto';
import { equalBytes, getHashSuite, toHex, verifyProof } from '@merklesync/merkle';
import {
  GetCheckpointRequestSchema,
  GetCheckpointResponseSchema,
  MerkleSyncService,
  proofFromMessage,
  verifyTableRootProof,
} from '@merklesync/protocol';
import { createStore, storeConfig } from '@merklesync/store';
import { EdgeClient } from './support/edge-client.ts';
import { expectedState, mapKeyOf, type ExpectedTable, type TableSpec } from './support/expected.ts';
import { ServiceProcess, freePort, waitFor } from '@merklesync/testkit';
import { busNames, merkleProcess } from './support/services.ts';

const PG = 'postgres://postgres@127.0.0.1:5432';
const NATS = '127.0.0.1:4222';
const run = randomBytes(4).toString('hex');
const SOURCE = `e2e-${run}`;
const BUS = busNames('', run);
const PREFIX = BUS.prefix;
const SRC_DB = `ms_e2e_src_${run}`;
const MS_DB = `ms_e2e_ms_${run}`;
const SLOT = `ms_e2e_slot_${run}`;
const STREAMS = BUS.streams;
const TABLES: TableSpec[] = [
  { name: 'public.items', pk: ['id'] },
  { name: 'public.events', pk: ['id'] },
];

const dir = mkdtempSync(join(tmpdir(), 'merklesync-e2e-'));
const ring = Keyring.generate('e2e');
const master = ring.key(ring.currentVersion)!;
const logKey = generateSignerKey('e2e.merklesync.test/log', SignatureType.Ed25519);
const policy = createPolicy({ log: formatVerifierKey(verifierKeyOf(logKey)), witnesses: [], threshold: 0 });

let admin: pg.Client;
let src: pg.Client;
let nc: NatsConnection;
let store: ReturnType<typeof createStore>;
let msPool: pg.Pool;
let ingest: ServiceProcess;
let merkle: ServiceProcess;
let prover: ServiceProcess;
let gateway: ServiceProcess;
let grpc: Client<typeof MerkleSyncService>;
/** The edge client; it keeps its replica and checkpoint from one test to the next (the second syncs incrementally). */
let edge: EdgeClient;
/** Primary-key encodings by map key (hex), per table, of every row SELECT * has returned (what the client is owed). */
const primaryKeys = new Map<string, Map<string, Uint8Array>>();
/** Row changes committed in the source so far: each must become exactly one log leaf. */
let changes = 0;
/** Most keys per proof request (PROVER_MAX_MULTI_KEYS is 1000; half keeps replies well under the NATS max payload). */
const KEYS_PER_REQUEST = 500;

// Services not created yet (a failure in beforeAll) have no logs: skip them rather than hide the real failure.
const logs = (): string => [ingest, merkle, prover, gateway].map((s) => (s as ServiceProcess | undefined)?.logs() ?? '').join('\n');

async function latestCheckpoint() {
  return store.checkpoints.latest('global');
}

/** Waits until the latest checkpoint covers exactly `changes` changes and commits to the expected state. */
async function settle(deadlineMs: number) {
  const expected = await expectedState(`${PG}/${SRC_DB}`, SOURCE, master, TABLES);
  const cp = await waitFor(
    async () => {
      const c = await latestCheckpoint();
      return c && c.logSize === changes && equalBytes(c.stateRoot, expected.stateRoot) ? c : undefined;
    },
    deadlineMs,
    () => `checkpoint never reached log size ${changes} with state root ${toHex(expected.stateRoot)}\n${logs()}`,
  );
  for (const t of expected.tables) {
    const m = primaryKeys.get(t.table) ?? new Map<string, Uint8Array>();
    for (const [key, row] of t.rows) m.set(key, row.primaryKey);
    primaryKeys.set(t.table, m);
  }
  return { cp, expected };
}

/** The edge client's replica holds exactly the live rows of SELECT *, each decrypted to its canonical encoding. */
function expectReplicaIsTheSource(tables: readonly ExpectedTable[]): void {
  for (const t of tables) {
    const replica = edge.replica.get(t.table)!;
    const wrong = [...t.rows].filter(([key, row]) => {
      const r = replica.get(key);
      return !r || !equalBytes(r.plaintext, row.encoded) || !equalBytes(r.commitment, row.commitment);
    });
    expect(wrong.map(([key]) => key).slice(0, 5), `${t.table}: rows missing or different in the replica`).toEqual([]);
    expect(replica.size, `${t.table}: rows in the replica that SELECT * does not return`).toBe(t.rows.size);
  }
}

async function proverRequest(kind: string, payload: Uint8Array): Promise<Uint8Array> {
  const m = await nc.request(`${PREFIX}.prover.${kind}`, payload, { timeout: 10_000 });
  const status = m.headers?.get('Ms-Status');
  if (status !== 'OK') throw new Error(`prover ${kind}: ${status} ${m.headers?.get('Ms-Error-Message') ?? ''}`);
  return m.data;
}

async function workload(sql: string, params: unknown[] = []): Promise<number> {
  const r = await src.query(sql, params);
  changes += r.rowCount ?? 0;
  return r.rowCount ?? 0;
}

async function insertItems(from: number, to: number): Promise<void> {
  await workload(
    `INSERT INTO public.items
       SELECT g, 'item ' || g, (g % 1000) / 10.0, g % 7, g / 3.0, g % 2 = 0, ARRAY['a' || g, 'b c', NULL],
              jsonb_build_object('n', g, 'big', 12345678901234567890, 'nested', jsonb_build_array(1.5, 'x')),
              timestamptz '2024-02-29 12:34:56.789+05:30' + g * interval '1 second', date '2024-01-01' + (g % 365)::int,
              md5(g::text)::uuid, decode(md5(g::text), 'hex')
       FROM generate_series($1::bigint, $2::bigint) g`,
    [from, to],
  );
}

beforeAll(async () => {
  admin = new pg.Client({ connectionString: `${PG}/postgres` });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${SRC_DB}`);
  await admin.query(`CREATE DATABASE ${MS_DB}`);
  src = new pg.Client({ connectionString: `${PG}/${SRC_DB}` });
  await src.connect();
  await src.query(`CREATE TABLE public.items (id bigint PRIMARY KEY, name text NOT NULL, price numeric(12,2), qty int, ratio float8,
      flag boolean, tags text[], doc jsonb, at timestamptz, day date, uid uuid, data bytea)`);
  await src.query(`CREATE TABLE public.events (id int PRIMARY KEY, kind text, amount float8, day date)`);
  // Tables with TOASTable columns need every column in update events (libs/sources README, "TOAST").
  await src.query(`ALTER TABLE public.items REPLICA IDENTITY FULL`);
  await src.query(`ALTER TABLE public.events REPLICA IDENTITY FULL`);

  writeFileSync(join(dir, 'master.key'), serializeKeyFile(ring), { mode: 0o600 });
  writeFileSync(join(dir, 'log.key'), formatSignerKey(logKey) + '\n', { mode: 0o600 });

  nc = await connect({ servers: NATS });
  msPool = new pg.Pool({ connectionString: `${PG}/${MS_DB}`, max: 2 });
  store = createStore(msPool, storeConfig(), { suite: 'sha256' });

  merkle = merkleProcess({ databaseUrl: `${PG}/${MS_DB}`, nats: NATS, bus: BUS, consumer: `merkle_${run}`, keyFile: join(dir, 'log.key') });
  ingest = new ServiceProcess('ingest', {
    INGEST_PG_URL: `${PG}/${SRC_DB}`,
    INGEST_SOURCE_NAME: SOURCE,
    INGEST_PUBLICATION: `ms_e2e_pub_${run}`,
    INGEST_SLOT: SLOT,
    INGEST_TABLES: TABLES.map((t) => t.name).join(','),
    INGEST_KEY_FILE: join(dir, 'master.key'),
    INGEST_KEY_ID: 'e2e',
    INGEST_NATS_SERVERS: NATS,
    INGEST_SUBJECT_PREFIX: PREFIX,
    INGEST_CHANGES_STREAM: STREAMS.changes,
  });
  prover = new ServiceProcess('prover', {
    PROVER_DATABASE_URL: `${PG}/${MS_DB}`,
    PROVER_NATS_SERVERS: NATS,
    PROVER_SUBJECT_PREFIX: `${PREFIX}.prover`,
    PROVER_HEAD_TTL_MS: '50',
  });
  // ingest first: it creates the changes stream merkle consumes from.
  ingest.start();
  await waitFor(async () => ((await jetstreamManager(nc)).streams.info(STREAMS.changes).then(() => true, () => undefined)), 30_000, () => `changes stream never appeared\n${ingest.logs()}`);
  merkle.start();
  prover.start();
  // A sentinel row proves the whole chain is live before the workload starts (so every later change streams).
  await workload(`INSERT INTO public.events VALUES (-1, 'sentinel', 0, date '2024-01-01')`);
  await waitFor(async () => ((await latestCheckpoint())?.logSize ?? 0) >= 1 || undefined, 60_000, () => `the sentinel never reached a checkpoint\n${logs()}`);

  // The gateway only reads the store merkle has migrated by now.
  const [httpPort, grpcPort] = [await freePort(), await freePort()];
  gateway = new ServiceProcess('gateway', {
    GATEWAY_HTTP_HOST: '127.0.0.1',
    GATEWAY_HTTP_PORT: String(httpPort),
    GATEWAY_GRPC_HOST: '127.0.0.1',
    GATEWAY_GRPC_PORT: String(grpcPort),
    GATEWAY_DATABASE_URL: `${PG}/${MS_DB}`,
    GATEWAY_DB_POOL_MAX: '4',
    GATEWAY_NATS_SERVERS: NATS,
    GATEWAY_PROVER_PREFIX: `${PREFIX}.prover`,
    GATEWAY_PROVER_TIMEOUT_MS: '10000',
    GATEWAY_SYNC_PAGE_SIZE: '1000',
  });
  gateway.start();
  grpc = createClient(MerkleSyncService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${grpcPort}` }));
  await waitFor(async () => ((await grpc.getCheckpoint({})).checkpoint ? true : undefined), 30_000, () => `the gateway never answered GetCheckpoint\n${gateway.logs()}`);
  edge = new EdgeClient({
    grpc,
    policy,
    source: SOURCE,
    tables: TABLES.map((t) => t.name),
    masterKey: master,
    keyId: 'e2e',
    keyVersion: ring.currentVersion,
    primaryKeyOf: (table, key) => primaryKeys.get(table)?.get(key),
  });
}, 180_000);

afterAll(async () => {
  for (const s of [gateway, ingest, merkle, prover]) await s?.stop().catch(() => undefined);
  await msPool?.end().catch(() => undefined);
  await src?.end().catch(() => undefined);
  if (nc) {
    const jsm = await jetstreamManager(nc);
    for (const name of Object.values(STREAMS)) await jsm.streams.delete(name).catch(() => undefined);
    await nc.close();
  }
  if (admin) {
    await admin.query(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1`, [SLOT]).catch(() => undefined);
    for (const db of [SRC_DB, MS_DB]) await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
  }
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('PostgreSQL → ingest → JetStream → merkle → prover', () => {
  it('commits 15,000 row changes of many column types into a signed checkpoint whose state root equals an independent computation', async () => {
    for (let i = 0; i < 20; i++) await insertItems(i * 500 + 1, (i + 1) * 500);
    await workload(`INSERT INTO public.events SELECT g, 'k' || (g % 5), g * 1.25, date '2024-03-01' + (g % 30) FROM generate_series(1, 2000) g`);
    await workload(`UPDATE public.items SET qty = qty + 1, doc = doc || '{"updated": true}' WHERE id % 5 = 0`);
    await workload(`DELETE FROM public.items WHERE id % 10 = 3`);
    await workload(`DELETE FROM public.events WHERE id BETWEEN 1 AND 200`);
    expect(changes).toBe(1 + 10_000 + 2_000 + 2_000 + 1_000 + 200);

    const { cp, expected } = await settle(120_000);
    // (a) the signed checkpoint, fetched through the prover as a client would, verifies under the log's policy
    const got = fromBinary(GetCheckpointResponseSchema, await proverRequest('checkpoint.latest', toBinary(GetCheckpointRequestSchema, create(GetCheckpointRequestSchema, {}))));
    const note = new TextDecoder().decode(got.checkpoint!.signedNote);
    const verified = verifyCheckpoint(note, policy);
    expect(verified.ok, JSON.stringify(verified)).toBe(true);
    if (!verified.ok) return;
    expect(verified.checkpoint.size).toBeGreaterThanOrEqual(cp.logSize);
    // (d) the state root it commits to is the one computed from SELECT * of the source tables
    expect(toHex(verified.checkpoint.stateRoot!)).toBe(toHex(expected.stateRoot));

    // (b) every live row through the gateway as an edge client gets it: one SyncRequest from nothing to the latest
    // checkpoint; the client verifies the checkpoint, each table-root proof, each multiproof, decrypts every block
    // under its RowBinding and recomputes commitment and map key (support/edge-client.ts), then its replica must
    // be SELECT * exactly: every live row once, byte for byte.
    const first = await edge.sync();
    expect(toHex(first.checkpoint.stateRoot)).toBe(toHex(expected.stateRoot));
    for (const t of expected.tables) {
      expect(toHex(first.tables.get(t.table)!.root), t.table).toBe(toHex(t.root));
      expect(first.tables.get(t.table)!.changed, `${t.table}: blocks in the sync`).toBe(t.rows.size);
    }
    expectReplicaIsTheSource(expected.tables);
    expect(expected.tables.reduce((n, t) => n + t.rows.size, 0)).toBe(1 + 10_000 - 1_000 + 2_000 - 200);

    // (c) every deleted row: a verified non-membership proof anchored in the client's checkpoint (batched
    // multiproofs through the gateway's GenerateProof), and the sync itself reported exactly these rows deleted.
    const deleted = [
      { table: 'public.items', type: 'int8', ids: Array.from({ length: 1000 }, (_, i) => String(i * 10 + 3)) },
      { table: 'public.events', type: 'int4', ids: Array.from({ length: 200 }, (_, i) => String(i + 1)) },
    ] as const;
    const suite = getHashSuite('sha256');
    for (const { table, type, ids } of deleted) {
      const keys = ids.map((id) => mapKeyOf(master, SOURCE, table, [fromPgText(type, id)]));
      expect(new Set(first.tables.get(table)!.deleted), `${table}: keys the sync reported deleted`).toEqual(new Set(keys.map(toHex)));
      let absent = 0;
      for (let i = 0; i < keys.length; i += KEYS_PER_REQUEST) {
        const batch = keys.slice(i, i + KEYS_PER_REQUEST);
        const res = await grpc.generateProof({
          target: { case: 'mapKeys', value: { source: SOURCE, table, mapKeys: batch } },
          checkpointSequence: BigInt(first.checkpoint.seq),
        });
        const anchor = verifyCheckpoint(res.checkpoint!.signedNote, policy);
        if (!anchor.ok) throw new Error(`${table}: anchor checkpoint does not verify: ${anchor.reason}`);
        expect(anchor.checkpoint.seq).toBe(first.checkpoint.seq);
        const proof = proofFromMessage(res.proof!);
        if (proof.kind !== 'map-multi') throw new Error(`${table}: expected a multiproof, got ${proof.kind}`);
        expect(verifyProof(proof)).toBe(true);
        expect(verifyTableRootProof(suite, res.tableRootProof!, { stateRoot: anchor.checkpoint.stateRoot!, source: SOURCE, table, tableRoot: proof.root })).toBe(true);
        expect(new Set(proof.entries.map((e) => toHex(e.key)))).toEqual(new Set(batch.map(toHex)));
        absent += proof.entries.filter((e) => e.value === null).length;
      }
      expect(absent, `${table}: deleted rows proven absent`).toBe(ids.length);
    }
  }, 240_000);

  it('loses and doubles nothing when ingest and merkle are SIGKILLed mid-workload and restarted', async () => {
    const load = (async () => {
      for (let i = 0; i < 40; i++) {
        await insertItems(20_001 + i * 100, 20_000 + (i + 1) * 100);
        await workload(`UPDATE public.events SET amount = amount + 1 WHERE id % 40 = $1`, [i]);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    await new Promise((r) => setTimeout(r, 600));
    await ingest.kill();
    await new Promise((r) => setTimeout(r, 400));
    await merkle.kill();
    ingest.start();
    await new Promise((r) => setTimeout(r, 300));
    merkle.start();
    await load;
    const { cp, expected } = await settle(180_000);
    expect(cp.logSize).toBe(changes);
    expect(toHex(cp.stateRoot)).toBe(toHex(expected.stateRoot));
    expect(ingest.running && merkle.running && prover.running && gateway.running, logs()).toBe(true);

    // The edge client syncs on from the checkpoint it holds: the consistency proof from it verifies, it is sent
    // exactly the rows changed since (4,000 inserted items, every live event but the sentinel updated) and its
    // replica is SELECT * again.
    const next = await edge.sync();
    expect(toHex(next.checkpoint.stateRoot)).toBe(toHex(expected.stateRoot));
    expect(next.tables.get('public.items')!.changed).toBe(4_000);
    expect(next.tables.get('public.events')!.changed).toBe(1_800);
    expect(next.tables.get('public.items')!.deleted.length + next.tables.get('public.events')!.deleted.length).toBe(0);
    expectReplicaIsTheSource(expected.tables);
  }, 300_000);

  it('carries a TRUNCATE through: every row of the table deleted in the log, the map and the replica', async () => {
    // A truncate is published as one event naming the table; merkle deletes each row the table holds, one log
    // entry each, exactly as if the source had deleted them.
    const before = Number((await src.query('SELECT count(*) AS n FROM public.events')).rows[0].n);
    await src.query('BEGIN');
    await src.query('TRUNCATE public.events');
    changes += before;
    await workload(`INSERT INTO public.events SELECT g, 'again', g * 0.5, date '2024-05-01' FROM generate_series(5001, 5010) g`);
    await src.query('COMMIT');
    const { cp, expected } = await settle(120_000);
    expect(cp.logSize).toBe(changes);
    expect(expected.tables.find((t) => t.table === 'public.events')!.rows.size).toBe(10);
    const next = await edge.sync();
    expect(toHex(next.checkpoint.stateRoot)).toBe(toHex(expected.stateRoot));
    expect(next.tables.get('public.events')!.deleted.length).toBe(before);
    expect(next.tables.get('public.events')!.changed).toBe(10);
    expect(next.tables.get('public.items')!.changed + next.tables.get('public.items')!.deleted.length).toBe(0);
    expectReplicaIsTheSource(expected.tables);
  }, 240_000);

  it('serves a row as it was at an earlier checkpoint after it changed (GetBlock through its leaf locator)', async () => {
    const table = 'public.items';
    const mapKey = mapKeyOf(master, SOURCE, table, [fromPgText('int8', '1')]);
    const at = async (seq: number) => {
      const r = await grpc.getBlock({ source: SOURCE, table, mapKey, checkpointSequence: BigInt(seq) });
      const proof = proofFromMessage(r.proof!);
      if (proof.kind !== 'map-membership') throw new Error(`expected a membership proof, got ${proof.kind}`);
      expect(verifyProof(proof)).toBe(true);
      expect(r.checkpoint!.sequence).toBe(BigInt(seq));
      expect(r.block!.block.length).toBeGreaterThan(0);
      expect(toHex(r.block!.leafCommitment)).toBe(toHex(proof.value));
      return r.block!;
    };
    const { cp: cp1 } = await settle(120_000);
    const before = await at(cp1.seq);
    await workload(`UPDATE public.items SET qty = qty + 100 WHERE id = 1`);
    const { cp: cp2 } = await settle(120_000);
    expect(cp2.seq).toBeGreaterThan(cp1.seq);
    const now = await at(cp2.seq);
    expect(toHex(now.leafCommitment)).not.toBe(toHex(before.leafCommitment));
    // The earlier checkpoint still serves the earlier version, byte for byte.
    const again = await at(cp1.seq);
    expect(toHex(again.block)).toBe(toHex(before.block));
    expect(again.rowVersion).toBe(before.rowVersion);
    expect(now.rowVersion).toBeGreaterThan(before.rowVersion);
  }, 240_000);
});
