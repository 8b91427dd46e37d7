#!/usr/bin/env node
// `npm start`: runs MerkleSync on this machine — ingest, merkle, prover and gateway as separate processes
// (each exactly as deployed: `node dist/apps/<app>/main.js`, configured by its environment) against the local
// PostgreSQL and NATS JetStream, with a demo source database and a demo workload writing to it.
//
//   npm start                      run until Ctrl-C
//   npm start -- --duration 60     run 60 s, then stop (prints a summary)
//   npm start -- --reset           drop the demo databases, slot, streams and keys first
//   OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 npm start    also send traces there (e.g. a local Jaeger)
//
// The OTEL_* variables of this environment reach every service (see libs/telemetry/README.md), except
// OTEL_SERVICE_NAME: each service names itself (ingest, merkle, prover, gateway).
//
// State lives in the databases merklesync_demo_src (the "application" database) and merklesync_demo (MerkleSync's
// own), the JetStream streams MS_*, and .merklesync-demo/ (key files; git-ignored). A second run resumes.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: opts } = parseArgs({
  options: { duration: { type: 'string' }, reset: { type: 'boolean' }, 'http-port': { type: 'string' }, 'grpc-port': { type: 'string' } },
});
const PG = 'postgres://postgres@127.0.0.1:5432';
const NATS = '127.0.0.1:4222';
const SRC_DB = 'merklesync_demo_src';
const MS_DB = 'merklesync_demo';
const SOURCE = 'demo';
const SLOT = 'merklesync_demo';
const STATE = join(ROOT, '.merklesync-demo');
const HTTP_PORT = Number(opts['http-port'] ?? 8080);
const GRPC_PORT = Number(opts['grpc-port'] ?? 8081);
const PROXY_PORT = Number(opts['proxy-port'] ?? 6432);
const TABLES = ['public.customers', 'public.orders'];

const say = (s) => console.log(`\x1b[1m[merklesync]\x1b[0m ${s}`);
const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status})`);
};
const cli = (...args) => {
  const r = spawnSync(process.execPath, [join(ROOT, 'apps/cli/bin/merklesync.mjs'), ...args], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`merklesync ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

async function withClient(db, f) {
  const c = new pg.Client({ connectionString: `${PG}/${db}` });
  await c.connect();
  try {
    return await f(c);
  } finally {
    await c.end();
  }
}

async function reset() {
  say('resetting the demo (databases, slot, streams, keys)');
  await withClient('postgres', async (c) => {
    await c.query(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active`, [SLOT]);
    for (const db of [SRC_DB, MS_DB]) await c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  });
  const { connect } = await import('@nats-io/transport-node');
  const { jetstreamManager } = await import('@nats-io/jetstream');
  const nc = await connect({ servers: NATS });
  const jsm = await jetstreamManager(nc);
  for await (const s of jsm.streams.list()) if (s.config.name.startsWith('MS_')) await jsm.streams.delete(s.config.name);
  await nc.close();
  spawnSync('rm', ['-rf', STATE]);
}

async function prepare() {
  await withClient('postgres', async (c) => {
    for (const db of [SRC_DB, MS_DB]) {
      const { rowCount } = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [db]);
      if (!rowCount) await c.query(`CREATE DATABASE ${db}`);
    }
  });
  await withClient(SRC_DB, async (c) => {
    await c.query(`CREATE TABLE IF NOT EXISTS public.customers (
      id bigint PRIMARY KEY, name text NOT NULL, email text, tier int, balance numeric(12,2), tags text[], profile jsonb,
      created timestamptz DEFAULT now())`);
    await c.query(`CREATE TABLE IF NOT EXISTS public.orders (
      id bigint PRIMARY KEY, customer_id bigint, amount numeric(12,2), status text, placed date, items jsonb)`);
    // Updates must carry every column (TOASTable columns; libs/sources README, "TOAST").
    for (const t of TABLES) await c.query(`ALTER TABLE ${t} REPLICA IDENTITY FULL`);
  });
  mkdirSync(STATE, { recursive: true });
  if (!existsSync(join(STATE, 'master.key'))) cli('keys', 'new', '--kid', 'demo', '--out', join(STATE, 'master.key'));
  if (!existsSync(join(STATE, 'log.key'))) cli('checkpoint', 'keygen', '--name', 'demo.merklesync.local/log', '--out', join(STATE, 'log'));
}

/** One service process; its output goes to the terminal prefixed with its name. */
function startService(app, env, colour) {
  const inherited = { ...process.env };
  delete inherited.OTEL_SERVICE_NAME;
  const child = spawn(process.execPath, [join(ROOT, 'dist/apps', app, 'main.js')], {
    cwd: ROOT,
    env: { ...inherited, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tag = `\x1b[${colour}m[${app}]\x1b[0m `;
  let pending = '';
  const out = (chunk) => {
    const lines = (pending + chunk.toString('utf8')).split('\n');
    pending = lines.pop() ?? '';
    for (const l of lines) if (l.trim() !== '') process.stdout.write(tag + l + '\n');
  };
  child.stdout.on('data', out);
  child.stderr.on('data', out);
  child.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  child.once('exit', (code, signal) => {
    if (!stopping) say(`${app} exited (${code ?? signal}); stopping the others`);
    if (!stopping) void stop(1);
  });
  return child;
}

let stopping = false;
const children = [];
let writer;
let proxyWriter;
let proxyTick = 0;
async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  clearInterval(writer);
  clearInterval(proxyWriter);
  say('stopping (SIGTERM to every service)');
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  await Promise.race([Promise.all(children.map((c) => c.exited)), new Promise((r) => setTimeout(r, 15_000))]);
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  process.exit(code);
}

async function waitFor(what, f, ms) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`${what} did not happen within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function latestCheckpoint() {
  const res = await fetch(`http://127.0.0.1:${HTTP_PORT}/v1/checkpoints/latest`);
  return res.ok ? res.json() : undefined;
}

/** The demo workload: a batch of new customers and orders, some updates and a few deletes, every second. */
async function workloadTick(c, n) {
  const base = n * 100;
  await c.query('BEGIN');
  await c.query(
    `INSERT INTO public.customers (id, name, email, tier, balance, tags, profile)
     SELECT g, 'customer ' || g, 'c' || g || '@example.com', g % 4, (g % 10000) / 100.0, ARRAY['t' || (g % 3)], jsonb_build_object('since', 2020 + g % 5)
     FROM generate_series($1::bigint, $2::bigint) g ON CONFLICT (id) DO NOTHING`,
    [base + 1, base + 100],
  );
  await c.query(
    `INSERT INTO public.orders SELECT g, g, (g % 500) + 0.99, 'new', date '2026-01-01' + (g % 300)::int, jsonb_build_array(jsonb_build_object('sku', 'S' || (g % 50), 'qty', 1 + g % 3))
     FROM generate_series($1::bigint, $2::bigint) g ON CONFLICT (id) DO NOTHING`,
    [base + 1, base + 100],
  );
  await c.query(`UPDATE public.orders SET status = 'shipped' WHERE id BETWEEN $1 AND $2 AND id % 3 = 0`, [base - 99, base]);
  await c.query(`DELETE FROM public.customers WHERE id BETWEEN $1 AND $2 AND id % 10 = 7`, [base - 99, base]);
  await c.query('COMMIT');
}

process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

say('checking PostgreSQL (wal_level=logical) and NATS JetStream');
run('bash', ['test/infra/services.sh']);
if (opts.reset) await reset();
say('building the services');
for (const app of ['ingest', 'merkle', 'prover', 'gateway', 'proxy', 'replay']) run(process.execPath, ['tools/build-app.mjs', app]);
await prepare();

const common = { NODE_ENV: 'production' };
children.push(
  startService('ingest', {
    ...common,
    INGEST_PG_URL: `${PG}/${SRC_DB}`,
    INGEST_SOURCE_NAME: SOURCE,
    INGEST_PUBLICATION: 'merklesync_demo',
    INGEST_SLOT: SLOT,
    INGEST_TABLES: TABLES.join(','),
    INGEST_KEY_FILE: join(STATE, 'master.key'),
    INGEST_KEY_ID: 'demo',
    INGEST_NATS_SERVERS: NATS,
  }, 33),
);
// merkle consumes the changes stream that ingest creates at start-up.
await waitFor('the changes stream', async () => {
  const { connect } = await import('@nats-io/transport-node');
  const { jetstreamManager } = await import('@nats-io/jetstream');
  const nc = await connect({ servers: NATS });
  try {
    await (await jetstreamManager(nc)).streams.info('MS_CHANGES');
    return true;
  } finally {
    await nc.close();
  }
}, 60_000);
children.push(
  startService('merkle', {
    ...common,
    MERKLE_DATABASE_URL: `${PG}/${MS_DB}`,
    MERKLE_NATS_SERVERS: NATS,
    MERKLE_CHECKPOINT_KEY_FILE: join(STATE, 'log.key'),
    MERKLE_CHECKPOINT_EVERY_MS: '1000',
  }, 35),
  startService('prover', { ...common, PROVER_DATABASE_URL: `${PG}/${MS_DB}`, PROVER_NATS_SERVERS: NATS }, 36),
  startService('gateway', {
    ...common,
    GATEWAY_DATABASE_URL: `${PG}/${MS_DB}`,
    GATEWAY_NATS_SERVERS: NATS,
    GATEWAY_HTTP_HOST: '127.0.0.1',
    GATEWAY_HTTP_PORT: String(HTTP_PORT),
    GATEWAY_GRPC_HOST: '127.0.0.1',
    GATEWAY_GRPC_PORT: String(GRPC_PORT),
  }, 32),
  // The verifiable SQL proxy in front of the demo database, and replay checking every transaction it records.
  startService('proxy', {
    ...common,
    PROXY_LISTEN_PORT: String(PROXY_PORT),
    PROXY_KEY_FILE: join(STATE, 'master.key'),
    PROXY_KEY_ID: 'demo',
    PROXY_SOURCE_ID: SOURCE,
    PROXY_NATS_SERVERS: NATS,
  }, 34),
  startService('replay', {
    ...common,
    REPLAY_VERIFICATION_URL: `${PG}/postgres`,
    REPLAY_RESULTS_DATABASE_URL: `${PG}/${MS_DB}`,
    REPLAY_KEY_FILE: join(STATE, 'master.key'),
    REPLAY_KEY_ID: 'demo',
    REPLAY_SOURCE_ID: SOURCE,
    REPLAY_NATS_SERVERS: NATS,
    REPLAY_WORKERS: '2',
  }, 31),
);

const src = new pg.Client({ connectionString: `${PG}/${SRC_DB}` });
await src.connect();
const start = (await src.query('SELECT coalesce(max(id), 0) AS m FROM public.orders')).rows[0].m;
let tick = Math.floor(Number(start) / 100) + 1;
await workloadTick(src, tick++);
writer = setInterval(() => {
  if (!stopping) workloadTick(src, tick++).catch((e) => say(`workload: ${e.message}`));
}, 1000);
// Through the proxy: one small transaction every 5 s, so /v1/verifications has replay verdicts to show.
const viaProxy = await waitFor('the SQL proxy', async () => {
  const c = new pg.Client({ host: '127.0.0.1', port: PROXY_PORT, user: 'postgres', database: SRC_DB });
  c.on('error', (e) => say(`proxy connection: ${e.message}`));
  await c.connect();
  return c;
}, 60_000).catch((e) => say(`proxy: ${e.message}`));
proxyWriter = setInterval(() => {
  if (stopping || !viaProxy) return;
  const id = 1_000_000_000 + (proxyTick++ % 1000);
  viaProxy
    .query('BEGIN')
    .then(() => viaProxy.query(`INSERT INTO public.customers (id, name, email, tier, balance) VALUES ($1, 'via proxy', 'p@example.com', 1, 1.00) ON CONFLICT (id) DO UPDATE SET balance = public.customers.balance + 1`, [id]))
    .then(() => viaProxy.query('COMMIT'))
    .catch((e) => say(`proxy workload: ${e.message}`));
}, 5000);

const cp = await waitFor('the first checkpoint', latestCheckpoint, 90_000);
const vkey = readFileSync(join(STATE, 'log.vkey'), 'utf8').trim();
writeFileSync(join(STATE, 'policy.json'), JSON.stringify({ version: 1, log: vkey, witnesses: [], threshold: 0 }, null, 2));
say('MerkleSync is running. Where to look:');
console.log(`
  REST        http://127.0.0.1:${HTTP_PORT}/v1/checkpoints/latest     (OpenAPI: http://127.0.0.1:${HTTP_PORT}/openapi.json)
              http://127.0.0.1:${HTTP_PORT}/v1/roots
              http://127.0.0.1:${HTTP_PORT}/v1/proofs/log/inclusion?leafIndex=0
  gRPC        127.0.0.1:${GRPC_PORT}  (merklesync.v1.MerkleSyncService; gRPC, gRPC-Web and Connect)
  checkpoint  seq ${cp.checkpoint?.sequence ?? cp.sequence ?? '?'}, verify it offline:
              curl -s http://127.0.0.1:${HTTP_PORT}/v1/checkpoints/latest | node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0)).checkpoint.signedNote)' > cp.txt
              npx merklesync checkpoint verify --policy ${join(STATE, 'policy.json')} cp.txt
  workload    100 customers + 100 orders per second into ${SRC_DB} (also: psql -h 127.0.0.1 -U postgres ${SRC_DB})
  SQL proxy   psql -h 127.0.0.1 -p ${PROXY_PORT} -U postgres ${SRC_DB}   — each writing transaction is replayed and checked:
              http://127.0.0.1:${HTTP_PORT}/v1/verifications   (a demo transaction goes through it every 5 s)
  traces      ${process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || process.env.OTEL_EXPORTER_OTLP_ENDPOINT || 'off (set OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 to send them to a Jaeger)'}
  stop        Ctrl-C
`);
if (opts.duration) {
  setTimeout(() => {
    void (async () => {
      const last = await latestCheckpoint().catch(() => undefined);
      say(`ran ${opts.duration} s; latest checkpoint: ${JSON.stringify(last?.checkpoint ?? last).slice(0, 300)}`);
      const v = await fetch(`http://127.0.0.1:${HTTP_PORT}/v1/verifications`).then((r) => r.json()).catch((e) => ({ error: String(e) }));
      say(`replay verdicts at the gateway: ${JSON.stringify(v).slice(0, 300)}`);
      await stop(0);
    })();
  }, Number(opts.duration) * 1000);
}
