// Throughput of the built ingest service, run on purpose (never in tests):
//   node tools/build-app.mjs ingest && node apps/ingest/test/throughput.bench.ts [rows]
// Starts dist/apps/ingest/main.js against a throw-away database and stream, commits one INSERT of `rows` rows
// into a 7-column table, and reports row changes/s from the COMMIT returning to the last message stored (PubAck'd)
// in JetStream, plus the time to the first stored message. Cleans up everything it created.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { Keyring, serializeKeyFile } from '@merklesync/crypto';
import { decodeEvent } from '@merklesync/protocol';

const rows = Number(process.argv[2] ?? 100_000);
const id = randomBytes(4).toString('hex');
const database = `ms_ingest_bench_${id}`;
const PG = { host: '127.0.0.1', port: 5432, user: 'postgres' };
const admin = new pg.Client({ ...PG, database: 'postgres' });
await admin.connect();
await admin.query(`CREATE DATABASE ${database}`);
const db = new pg.Client({ ...PG, database });
await db.connect();
await db.query(`CREATE TABLE bench (id int8 PRIMARY KEY, name text, qty int4, price numeric(12,2), at timestamptz, tags text[], doc jsonb);
                ALTER TABLE bench REPLICA IDENTITY FULL`);
const dir = await mkdtemp(join(tmpdir(), 'ms-ingest-bench-'));
const keyFile = join(dir, 'master.key');
await writeFile(keyFile, serializeKeyFile(Keyring.generate('bench')), { mode: 0o600 });
const source = `bench${id}`;
const stream = `TB_${id.toUpperCase()}`;
const nc = await connect({ servers: '127.0.0.1:4222' });
const jsm = await jetstreamManager(nc);

const child = spawn(process.execPath, ['dist/apps/ingest/main.js'], {
  stdio: ['ignore', 'inherit', 'inherit'],
  env: {
    ...process.env,
    INGEST_SOURCE_NAME: source,
    INGEST_PG_URL: `postgres://postgres@127.0.0.1:5432/${database}`,
    INGEST_PUBLICATION: `ms_pub_${id}`,
    INGEST_SLOT: `ms_bench_${id}`,
    INGEST_TABLES: 'public.bench',
    INGEST_KEY_FILE: keyFile,
    INGEST_KEY_ID: 'bench',
    INGEST_CHANGES_STREAM: stream,
    INGEST_SUBJECT_PREFIX: source,
    INGEST_CHANGES_SUBJECTS: `${source}.changes.>`,
  },
});

async function waitFor<T>(what: string, f: () => Promise<T | undefined>, ms = 120_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

try {
  // The (empty) snapshot's final chunk is not published; wait until the slot exists and streaming started.
  await waitFor('slot active', async () => {
    const r = await db.query(`SELECT 1 FROM pg_replication_slots WHERE slot_name = $1 AND active`, [`ms_bench_${id}`]);
    return r.rows.length > 0 ? true : undefined;
  });
  const startInfo = (await jsm.streams.info(stream)).state;
  const before = startInfo.messages;
  const startSeq = startInfo.last_seq + 1;
  const t0 = performance.now();
  await db.query(
    `INSERT INTO bench SELECT g, 'name-' || g, g % 1000, (g % 10000) / 100.0, '2024-01-01'::timestamptz + g * interval '1 second',
       ARRAY['a', 'b' || g], jsonb_build_object('g', g, 'k', 'v') FROM generate_series(1, $1) g`,
    [rows],
  );
  const committed = performance.now();
  let first = 0;
  let events = 0;
  let seq = startSeq;
  while (events < rows) {
    const m = await waitFor('messages', async () => (await jsm.streams.getMessage(stream, { seq })) ?? undefined);
    if (first === 0) first = performance.now();
    events += decodeEvent('change-batch', m.data).events.length;
    seq++;
  }
  const info = await jsm.streams.info(stream);
  const lastStored = (await jsm.streams.getMessage(stream, { seq: info.state.last_seq }))!.time.getTime();
  const firstStored = (await jsm.streams.getMessage(stream, { seq: startSeq }))!.time.getTime();
  const commitWall = Date.now() - (performance.now() - committed);
  const seconds = (lastStored - commitWall) / 1000;
  console.log(
    JSON.stringify({
      rows,
      messages: info.state.messages - before,
      insertMs: Math.round(committed - t0),
      commitToFirstStoredMs: firstStored - Math.round(commitWall),
      commitToLastStoredMs: Math.round(lastStored - commitWall),
      changesPerSecond: Math.round(rows / seconds),
      bytes: info.state.bytes,
    }),
  );
} finally {
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  await jsm.streams.delete(stream).catch(() => undefined);
  await nc.close();
  await db.end();
  await admin.query(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = $1`, [database]).catch(() => undefined);
  await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await admin.end();
  await rm(dir, { recursive: true, force: true });
}
