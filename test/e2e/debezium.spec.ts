// The same workload through both change paths — PostgreSQL logical replication (pgoutput) and Debezium over
// Kafka — must commit to byte-identical state roots. One source database, one Debezium connector registered with
// deploy/debezium/connector.json, two complete pipelines (ingest + merkle each, separate streams and stores) under
// the same source name and master key; every process real (test/infra/kafka.sh for Kafka, Connect, Debezium).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keyring, SignatureType, formatSignerKey, generateSignerKey, serializeKeyFile } from '@merklesync/crypto';
import { equalBytes, toHex } from '@merklesync/merkle';
import { createStore, storeConfig } from '@merklesync/store';
import { KAFKA, ServiceProcess, debeziumConnectorConfig, deleteConnector, kafkaAvailable, kafkaRequired, registerConnector, waitFor } from '@merklesync/testkit';
import { expectedState, type TableSpec } from './support/expected.ts';
import { busNames, merkleProcess } from './support/services.ts';

const available = await kafkaAvailable();
if (!available && kafkaRequired) throw new Error(`Kafka Connect is not reachable at ${KAFKA.connectUrl}: run bash test/infra/kafka.sh start`);

const PG = 'postgres://postgres@127.0.0.1:5432';
const NATS = '127.0.0.1:4222';
const run = randomBytes(4).toString('hex');
const SOURCE = `e2edbz-${run}`;
const SRC_DB = `ms_e2edbz_src_${run}`;
const TABLES: TableSpec[] = [
  { name: 'public.items', pk: ['id'] },
  { name: 'public.pairs', pk: ['b', 'a'] },
];
const dir = mkdtempSync(join(tmpdir(), 'merklesync-e2e-dbz-'));
const ring = Keyring.generate('e2e');
const master = ring.key(ring.currentVersion)!;
const CONNECTOR = `ms_e2e_${run}`;
const TOPIC_PREFIX = `msdbz${run}`;

interface Path {
  label: string;
  prefix: string;
  db: string;
  streams: { changes: string; roots: string; checkpoints: string; dlq: string };
  ingest: ServiceProcess;
  merkle: ServiceProcess;
  store: ReturnType<typeof createStore>;
  pool: pg.Pool;
}

let admin: pg.Client;
let src: pg.Client;
let nc: NatsConnection;
const paths: Path[] = [];
let changes = 0;

function makePath(label: 'pg' | 'dbz', ingestEnv: Record<string, string>): Path {
  const { prefix, streams } = busNames(label, run);
  const db = `ms_e2edbz_${label}_${run}`;
  const pool = new pg.Pool({ connectionString: `${PG}/${db}`, max: 2 });
  return {
    label,
    prefix,
    db,
    streams,
    pool,
    store: createStore(pool, storeConfig(), { suite: 'sha256' }),
    ingest: new ServiceProcess('ingest', {
      INGEST_SOURCE_NAME: SOURCE,
      INGEST_TABLES: TABLES.map((t) => t.name).join(','),
      INGEST_KEY_FILE: join(dir, 'master.key'),
      INGEST_KEY_ID: 'e2e',
      INGEST_NATS_SERVERS: NATS,
      INGEST_SUBJECT_PREFIX: prefix,
      INGEST_CHANGES_STREAM: streams.changes,
      ...ingestEnv,
    }),
    merkle: merkleProcess({ databaseUrl: `${PG}/${db}`, nats: NATS, bus: { prefix, streams }, consumer: `merkle_${label}_${run}`, keyFile: join(dir, 'log.key') }),
  };
}

const logs = (): string => paths.map((p) => `--- ${p.label}\n${p.ingest.logs()}\n${p.merkle.logs()}`).join('\n');

async function workload(sql: string, params: unknown[] = []): Promise<void> {
  const r = await src.query(sql, params);
  changes += r.rowCount ?? 0;
}

/** Both paths' latest checkpoints cover every change and commit to the state computed from SELECT *. */
async function settle(ms: number): Promise<{ pg: Uint8Array; dbz: Uint8Array; expected: Uint8Array; logSizes: number[] }> {
  const expected = (await expectedState(`${PG}/${SRC_DB}`, SOURCE, master, TABLES)).stateRoot;
  const roots: Uint8Array[] = [];
  const logSizes: number[] = [];
  for (const p of paths) {
    const cp = await waitFor(
      async () => {
        const c = await p.store.checkpoints.latest('global');
        return c && c.logSize >= changes && equalBytes(c.stateRoot, expected) ? c : undefined;
      },
      ms,
      () => `${p.label}: no checkpoint with the expected state root ${toHex(expected)} after ${changes} changes\n${logs()}`,
    );
    roots.push(cp.stateRoot);
    logSizes.push(cp.logSize);
  }
  return { pg: roots[0]!, dbz: roots[1]!, expected, logSizes };
}

beforeAll(async () => {
  if (!available) return;
  admin = new pg.Client({ connectionString: `${PG}/postgres` });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${SRC_DB}`);
  src = new pg.Client({ connectionString: `${PG}/${SRC_DB}` });
  await src.connect();
  await src.query(`CREATE TABLE public.items (id bigint PRIMARY KEY, name text NOT NULL, price numeric(12,2), ratio float8, qty int2,
      flag boolean, tags text[], doc jsonb, at timestamptz, local timestamp, day date, tm time, span interval, uid uuid, data bytea, code char(3), label varchar(20))`);
  await src.query(`CREATE TABLE public.pairs (a int, b text, note text, PRIMARY KEY (b, a))`);
  await src.query(`ALTER TABLE public.items REPLICA IDENTITY FULL`);
  await src.query(`ALTER TABLE public.pairs REPLICA IDENTITY FULL`);
  // Rows present before either path starts: each path's snapshot.
  await workload(`INSERT INTO public.pairs SELECT g, 'pre' || g, 'n' FROM generate_series(1, 200) g`);

  writeFileSync(join(dir, 'master.key'), serializeKeyFile(ring), { mode: 0o600 });
  writeFileSync(join(dir, 'log.key'), formatSignerKey(generateSignerKey('e2e.merklesync.test/log', SignatureType.Ed25519)) + '\n', { mode: 0o600 });
  nc = await connect({ servers: NATS });
  for (const db of [`ms_e2edbz_pg_${run}`, `ms_e2edbz_dbz_${run}`]) await admin.query(`CREATE DATABASE ${db}`);

  await registerConnector(
    CONNECTOR,
    debeziumConnectorConfig({ host: '127.0.0.1', port: 5432, user: 'postgres', password: '', database: SRC_DB, topicPrefix: TOPIC_PREFIX, tables: TABLES.map((t) => t.name), slot: `ms_e2edbz_slot_${run}`, publication: `ms_e2edbz_pub_${run}` }),
  );
  paths.push(
    makePath('pg', { INGEST_SOURCE_KIND: 'pg', INGEST_PG_URL: `${PG}/${SRC_DB}`, INGEST_PUBLICATION: `ms_e2epg_pub_${run}`, INGEST_SLOT: `ms_e2epg_slot_${run}` }),
    makePath('dbz', { INGEST_SOURCE_KIND: 'debezium', INGEST_KAFKA_BROKERS: KAFKA.brokers.join(','), INGEST_KAFKA_TOPIC_PREFIX: TOPIC_PREFIX, INGEST_KAFKA_GROUP_ID: `ms_e2e_${run}` }),
  );
  for (const p of paths) {
    p.ingest.start();
    await waitFor(async () => ((await jetstreamManager(nc)).streams.info(p.streams.changes).then(() => true, () => undefined)), 60_000, () => `${p.label}: changes stream never appeared\n${p.ingest.logs()}`);
    p.merkle.start();
  }
}, 240_000);

afterAll(async () => {
  for (const p of paths) {
    await p.ingest.stop().catch(() => undefined);
    await p.merkle.stop().catch(() => undefined);
    await p.pool.end().catch(() => undefined);
  }
  if (available) await deleteConnector(CONNECTOR);
  await src?.end().catch(() => undefined);
  if (nc) {
    const jsm = await jetstreamManager(nc);
    for (const p of paths) for (const name of Object.values(p.streams)) await jsm.streams.delete(name).catch(() => undefined);
    await nc.close();
  }
  if (admin) {
    // The connector's slot outlives the connector: drop every slot of the source database, then the databases.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const r = await admin.query<{ slot_name: string; active_pid: number | null }>('SELECT slot_name, active_pid FROM pg_replication_slots WHERE database = $1', [SRC_DB]);
      if (r.rows.length === 0 || Date.now() > deadline) break;
      for (const s of r.rows) {
        if (s.active_pid !== null) await admin.query('SELECT pg_terminate_backend($1)', [s.active_pid]);
        else await admin.query('SELECT pg_drop_replication_slot($1)', [s.slot_name]).catch(() => undefined);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    for (const db of [SRC_DB, `ms_e2edbz_pg_${run}`, `ms_e2edbz_dbz_${run}`]) await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
  }
  rmSync(dir, { recursive: true, force: true });
}, 120_000);

describe.skipIf(!available)('Debezium path vs logical-replication path', () => {
  it('commits the same workload to byte-identical state roots', async () => {
    for (let i = 0; i < 4; i++) {
      await workload(
        `INSERT INTO public.items
           SELECT g, 'item ' || g, (g % 1000) / 10.0, g / 3.0, (g % 100)::int2, g % 2 = 0, ARRAY['a' || g, 'b c', NULL],
                  jsonb_build_object('n', g, 'big', 12345678901234567890, 'nested', jsonb_build_array(1.5, 'x')),
                  timestamptz '2024-02-29 12:34:56.789+05:30' + g * interval '1 second', timestamp '2000-01-01 00:00:00.5' + g * interval '1 day',
                  date '2024-01-01' + (g % 365)::int, time '04:05:06.789' + g * interval '1 ms', make_interval(0, (g % 13)::int, 0, (g % 40)::int, 0, 0, (g / 7.0)::float8),
                  md5(g::text)::uuid, decode(md5(g::text), 'hex'), 'c' || (g % 10), 'v' || g
           FROM generate_series($1::bigint, $2::bigint) g`,
        [i * 500 + 1, (i + 1) * 500],
      );
    }
    // One transaction across both tables, with a key change (delete + insert on the Debezium side, update on pgoutput's).
    await src.query('BEGIN');
    await workload(`UPDATE public.items SET qty = qty + 1, doc = doc || '{"updated": true}', price = NULL WHERE id % 5 = 0`);
    await workload(`UPDATE public.pairs SET note = 'changed' WHERE a % 3 = 0`);
    await workload(`DELETE FROM public.items WHERE id % 10 = 3`);
    await src.query('COMMIT');
    await workload(`UPDATE public.pairs SET b = 'moved' || a WHERE a <= 20`);
    await workload(`DELETE FROM public.pairs WHERE a > 190`);

    const roots = await settle(180_000);
    expect(toHex(roots.dbz)).toBe(toHex(roots.pg));
    expect(toHex(roots.pg)).toBe(toHex(roots.expected));
    // And the same number of log leaves: every change once on both paths (a key change is a delete and an insert on
    // Debezium's side, an update with the old key on pgoutput's: two leaves either way).
    expect(roots.logSizes[1]).toBe(roots.logSizes[0]);
    expect(paths.every((p) => p.ingest.running && p.merkle.running), logs()).toBe(true);
  }, 300_000);

  it('stays identical when the Debezium-side ingest is SIGKILLed mid-workload and restarted (offsets only after PubAck)', async () => {
    const dbz = paths[1]!;
    const load = (async () => {
      for (let i = 0; i < 30; i++) {
        await workload(`UPDATE public.items SET qty = qty + 1 WHERE id % 30 = $1`, [i]);
        await workload(`INSERT INTO public.pairs SELECT g, 'k' || g, 'late' FROM generate_series($1::int, $2::int) g`, [1000 + i * 20, 1000 + i * 20 + 19]);
      }
    })();
    // Kill once the Debezium side has started on this workload (its log grew), not at a fixed time.
    const before = (await dbz.store.checkpoints.latest('global'))?.logSize ?? 0;
    await waitFor(async () => ((await dbz.store.checkpoints.latest('global'))?.logSize ?? 0) > before || undefined, 60_000, () => `no progress on the Debezium side\n${logs()}`);
    await dbz.ingest.kill();
    dbz.ingest.start();
    await load;
    const roots = await settle(180_000);
    expect(toHex(roots.dbz)).toBe(toHex(roots.pg));
    expect(toHex(roots.pg)).toBe(toHex(roots.expected));
    // Batches published before the kill and read again after it carried the same Nats-Msg-Ids: no leaf twice.
    expect(roots.logSizes[1]).toBe(roots.logSizes[0]);
  }, 300_000);
});
