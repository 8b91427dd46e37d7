// The product's main job, end to end, with every part real: PostgreSQL → ingest → JetStream → merkle → Postgres
// store → prover. Services run as built processes (`node dist/apps/<app>/main.js`); the test is the edge
// client and checks everything against values it computes itself from a plain SELECT * of the source tables.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
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
import { equalBytes, toHex, verifyProof } from '@merklesync/merkle';
import {
  GenerateProofRequestSchema,
  GenerateProofResponseSchema,
  GetCheckpointRequestSchema,
  GetCheckpointResponseSchema,
  proofFromMessage,
} from '@merklesync/protocol';
import { createStore, storeConfig } from '@merklesync/store';
import { expectedState, mapKeyOf, type TableSpec } from './support/expected.ts';
import { ServiceProcess, waitFor } from './support/service.ts';

const PG = 'postgres://postgres@127.0.0.1:5432';
const NATS = '127.0.0.1:4222';
const run = randomBytes(4).toString('hex');
const SOURCE = `e2e-${run}`;
const PREFIX = `e2e${run}`;
const SRC_DB = `ms_e2e_src_${run}`;
const MS_DB = `ms_e2e_ms_${run}`;
const SLOT = `ms_e2e_slot_${run}`;
const STREAMS = { changes: `E2E_${run}_CHANGES`, roots: `E2E_${run}_ROOTS`, checkpoints: `E2E_${run}_CHECKPOINTS`, dlq: `E2E_${run}_DLQ` };
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
/** Row changes committed in the source so far: each must become exactly one log leaf. */
let changes = 0;

const logs = (): string => [ingest, merkle, prover].map((s) => s.logs()).join('\n');

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
  return { cp, expected };
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

  merkle = new ServiceProcess('merkle', {
    MERKLE_DATABASE_URL: `${PG}/${MS_DB}`,
    MERKLE_NATS_SERVERS: NATS,
    MERKLE_SUBJECT_PREFIX: PREFIX,
    MERKLE_CHANGES_STREAM: STREAMS.changes,
    MERKLE_ROOTS_STREAM: STREAMS.roots,
    MERKLE_CHECKPOINTS_STREAM: STREAMS.checkpoints,
    MERKLE_DLQ_STREAM: STREAMS.dlq,
    MERKLE_CONSUMER: `merkle_${run}`,
    MERKLE_CHECKPOINT_KEY_FILE: join(dir, 'log.key'),
    MERKLE_CHECKPOINT_EVERY_MS: '200',
  });
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
}, 180_000);

afterAll(async () => {
  for (const s of [ingest, merkle, prover]) await s?.stop().catch(() => undefined);
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

    // (b) live rows: membership proofs against the table roots the state root was computed from
    for (const t of expected.tables) {
      const keys = [...t.liveKeys.keys()];
      const sample = keys.filter((_, i) => i % 25 === 0);
      for (const hex of sample) {
        const res = fromBinary(
          GenerateProofResponseSchema,
          await proverRequest('map.prove', toBinary(GenerateProofRequestSchema, create(GenerateProofRequestSchema, { target: { case: 'mapKeys', value: { source: SOURCE, table: t.table, mapKeys: [Buffer.from(hex, 'hex')] } } }))),
        );
        const proof = proofFromMessage(res.proof!);
        if (proof.kind !== 'map-membership') throw new Error(`${t.table} ${hex}: expected a membership proof, got ${proof.kind}`);
        expect(verifyProof(proof)).toBe(true);
        expect(toHex(proof.root)).toBe(toHex(t.root));
      }
    }
    // (c) deleted rows: verified non-membership proofs
    for (const [table, id, type] of [['public.items', '13', 'int8'], ['public.items', '9993', 'int8'], ['public.events', '7', 'int4'], ['public.events', '200', 'int4']] as const) {
      const key = mapKeyOf(master, SOURCE, table, [fromPgText(type, id)]);
      const res = fromBinary(
        GenerateProofResponseSchema,
        await proverRequest('map.prove', toBinary(GenerateProofRequestSchema, create(GenerateProofRequestSchema, { target: { case: 'mapKeys', value: { source: SOURCE, table, mapKeys: [key] } } }))),
      );
      const proof = proofFromMessage(res.proof!);
      if (proof.kind !== 'map-non-membership') throw new Error(`${table} ${id}: expected a non-membership proof, got ${proof.kind}`);
      expect(verifyProof(proof)).toBe(true);
      expect(toHex(proof.root)).toBe(toHex(expected.tables.find((x) => x.table === table)!.root));
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
    expect(ingest.running && merkle.running && prover.running, logs()).toBe(true);
  }, 300_000);
});
