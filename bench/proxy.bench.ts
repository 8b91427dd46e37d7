// `npm run bench:proxy [-- --json] [-- --quick] [-- --no-build]`: the verifiable SQL proxy and replay as built
// processes against the local PostgreSQL, in one run, on databases, streams and subjects of their own:
//   1. pgbench select-only and simple-update, directly and through the proxy (tps; per-transaction latency p50/p95
//      from pgbench's per-transaction log, one client, so the added latency is the proxy's, not queueing);
//   2. autocommit DML through the proxy with capture (UPDATE by primary key, node-postgres, one client): p95;
//   3. replay throughput: a backlog of those records, replay started afterwards, verified transactions per second
//      from its first to its last verdict;
//   4. replay latency: a paced workload with replay running, commit → verdict per transaction, p50/p95.
// It reports; it asserts nothing (every verdict must be success=true or the table says how many were not).
//
// Options: --seconds N (each pgbench run, default 8; --quick 3), --dml N (autocommit DML transactions, default 3000;
// --quick 500), --paced N (paced transactions, default 300; --quick 60), --rate N (paced tx/s, default 50), --workers N
// (replay workers, default 4), --clients N (pgbench clients of the tps runs, default 4).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { Keyring, serializeKeyFile } from '@merklesync/crypto';
import { decodeEvent } from '@merklesync/protocol';
import { ServiceProcess, freePort, sleep, waitFor } from '@merklesync/testkit';
import { NATS, PG_URL, flag, intArg } from './args.ts';
import { buildAppsUnlessSkipped } from './pipeline/process.ts';

const num = (name: string, dflt: number): number => intArg(name, dflt, 1);
const json = flag('--json');
const quick = flag('--quick');
const SECONDS = num('--seconds', quick ? 3 : 8);
const DML = num('--dml', quick ? 500 : 3000);
const PACED = num('--paced', quick ? 60 : 300);
const RATE = num('--rate', 50);
const WORKERS = num('--workers', 4);
const CLIENTS = num('--clients', 4);

const TARGETS = { addedSelectP95Ms: 1, dmlP95Ms: 10, replayP95Ms: 100, verifiedPerSec: 200 };
const SEED_TARGETS = { addedSelectP95Ms: 5, dmlP95Ms: 50, replayP95Ms: 500, verifiedPerSec: '10–50' };

const progress = (m: string): void => void process.stderr.write(`[bench:proxy] ${m}\n`);
const run = randomBytes(4).toString('hex');
const DB = `ms_bench_proxy_${run}`;
const RESULTS_DB = `ms_bench_proxyres_${run}`;
const STREAMS = { commitments: `BENCH_${run}_COMMITMENTS`, results: `BENCH_${run}_RESULTS`, dlq: `BENCH_${run}_DLQ` };
const dir = mkdtempSync(join(os.tmpdir(), 'merklesync-bench-proxy-'));
const pct = (xs: number[], p: number): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};
const url = new URL(PG_URL);

function pgbench(port: number, args: string[], tag: string): { tps: number; latenciesMs: number[] } {
  const prefix = join(dir, `pgb-${tag}`);
  const r = spawnSync('pgbench', ['-h', url.hostname, '-p', String(port), '-U', url.username || 'postgres', '-n', '-l', `--log-prefix=${prefix}`, ...args, DB], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`pgbench ${args.join(' ')} via ${port}: ${r.stderr}`);
  const tps = Number(/tps = ([\d.]+)/.exec(r.stdout)?.[1] ?? NaN);
  const latenciesMs: number[] = [];
  for (const f of readdirSync(dir).filter((n) => n.startsWith(`pgb-${tag}`))) {
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
      const us = Number(line.split(' ')[2]);
      if (Number.isFinite(us) && line !== '') latenciesMs.push(us / 1000);
    }
    rmSync(join(dir, f));
  }
  return { tps, latenciesMs };
}

async function main(): Promise<void> {
  await buildAppsUnlessSkipped(['proxy', 'replay'], progress);
  const admin = new pg.Client({ connectionString: `${PG_URL}/postgres` });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${DB}`);
  await admin.query(`CREATE DATABASE ${RESULTS_DB}`);
  const ring = Keyring.generate('bench');
  writeFileSync(join(dir, 'master.key'), serializeKeyFile(ring), { mode: 0o600 });
  const nc = await connect({ servers: NATS });
  const jsm = await jetstreamManager(nc);
  const proxyPort = await freePort();
  const proxy = new ServiceProcess('proxy', {
    PROXY_LISTEN_PORT: String(proxyPort),
    PROXY_BACKEND_HOST: url.hostname,
    PROXY_BACKEND_PORT: url.port || '5432',
    PROXY_KEY_FILE: join(dir, 'master.key'),
    PROXY_KEY_ID: 'bench',
    PROXY_INSTANCE_ID: `b${run}`,
    PROXY_NATS_SERVERS: NATS,
    PROXY_COMMITMENTS_STREAM: STREAMS.commitments,
    PROXY_COMMITMENTS_SUBJECT: `bench${run}.proxy.commitments`,
  });
  const replay = new ServiceProcess('replay', {
    REPLAY_VERIFICATION_URL: `${PG_URL}/postgres`,
    REPLAY_KEY_FILE: join(dir, 'master.key'),
    REPLAY_KEY_ID: 'bench',
    REPLAY_INSTANCE_ID: `b${run}`,
    REPLAY_DB_PREFIX: 'ms_bench_rw',
    REPLAY_WORKERS: String(WORKERS),
    REPLAY_RESULTS_DATABASE_URL: `${PG_URL}/${RESULTS_DB}`,
    REPLAY_RESULTS_SCHEMA: 'bench_replay',
    REPLAY_NATS_SERVERS: NATS,
    REPLAY_COMMITMENTS_STREAM: STREAMS.commitments,
    REPLAY_COMMITMENTS_SUBJECT: `bench${run}.proxy.commitments`,
    REPLAY_CONSUMER: `bench_${run}`,
    REPLAY_RESULTS_STREAM: STREAMS.results,
    REPLAY_RESULTS_SUBJECT: `bench${run}.replay.results`,
    REPLAY_DLQ_STREAM: STREAMS.dlq,
    REPLAY_DLQ_SUBJECT: `bench${run}.dlq`,
  });
  const results = new pg.Pool({ connectionString: `${PG_URL}/${RESULTS_DB}`, max: 2 });
  const cleanup = async (): Promise<void> => {
    await Promise.allSettled([proxy.stop(), replay.stop()]);
    await results.end().catch(() => undefined);
    for (const s of Object.values(STREAMS)) await jsm.streams.delete(s).catch(() => undefined);
    await nc.close();
    for (const d of [DB, RESULTS_DB]) await admin.query(`DROP DATABASE IF EXISTS ${d} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    progress('pgbench -i -s 1');
    const init = spawnSync('pgbench', ['-i', '-s', '1', '-q', '-h', url.hostname, '-p', url.port || '5432', '-U', url.username || 'postgres', DB], { encoding: 'utf8' });
    if (init.status !== 0) throw new Error(`pgbench -i: ${init.stderr}`);
    proxy.start();
    await waitFor(
      async () => {
        const c = new pg.Client({ host: '127.0.0.1', port: proxyPort, user: 'postgres', database: DB });
        return c.connect().then(() => c.end().then(() => true), () => undefined);
      },
      30_000,
      () => `proxy did not start\n${proxy.logs()}`,
    );
    const direct = Number(url.port || '5432');
    const runs: Record<string, { tps: number; p50: number; p95: number }> = {};
    for (const [name, args] of [
      ['select', ['-S']],
      ['update', ['-N']],
    ] as const) {
      for (const [via, port] of [
        ['direct', direct],
        ['proxy', proxyPort],
      ] as const) {
        progress(`pgbench ${name} ${via}: ${SECONDS}s × 2 (1 client for latency, ${CLIENTS} for tps)`);
        const lat = pgbench(port, [...args, '-c', '1', '-T', String(SECONDS)], `${name}-${via}-lat`);
        const thr = pgbench(port, [...args, '-c', String(CLIENTS), '-j', '2', '-T', String(SECONDS)], `${name}-${via}-tps`);
        runs[`${name}-${via}`] = { tps: thr.tps, p50: pct(lat.latenciesMs, 50), p95: pct(lat.latenciesMs, 95) };
      }
    }

    // Autocommit DML with capture, replay stopped: the records queue up.
    const before = (await jsm.streams.info(STREAMS.commitments)).state.messages;
    progress(`${DML} autocommit UPDATEs through the proxy`);
    const c = new pg.Client({ host: '127.0.0.1', port: proxyPort, user: 'postgres', database: DB });
    await c.connect();
    const dmlMs: number[] = [];
    for (let i = 0; i < DML; i++) {
      const t0 = performance.now();
      await c.query('UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2', [1 + (i % 7), 1 + ((i * 7919) % 100_000)]);
      dmlMs.push(performance.now() - t0);
    }
    await waitFor(async () => ((await jsm.streams.info(STREAMS.commitments)).state.messages >= before + DML ? true : undefined), 60_000, () => `records missing\n${proxy.logs()}`);

    progress(`replay (${WORKERS} workers): the backlog`);
    const totalRecords = (await jsm.streams.info(STREAMS.commitments)).state.messages;
    replay.start();
    const count = async (): Promise<number> => (await results.query('SELECT count(*)::int AS n FROM bench_replay.verification_results').catch(() => ({ rows: [{ n: 0 }] }))).rows[0].n as number;
    await waitFor(async () => ((await count()) >= totalRecords ? true : undefined), 600_000, () => `replay did not finish the backlog\n${replay.logs()}`);
    const span = (await results.query('SELECT min(verified_at_micros)::text AS a, max(verified_at_micros)::text AS b, count(*) FILTER (WHERE success)::int AS ok FROM bench_replay.verification_results')).rows[0] as { a: string; b: string; ok: number };
    const spanS = Number(BigInt(span.b) - BigInt(span.a)) / 1e6;
    const perSec = (totalRecords - 1) / spanS;

    progress(`${PACED} paced transactions at ${RATE}/s with replay running`);
    const pacedStart = (await jsm.streams.info(STREAMS.commitments)).state.last_seq;
    const t0 = performance.now();
    for (let i = 0; i < PACED; i++) {
      const due = t0 + (i * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      await c.query('BEGIN');
      await c.query('UPDATE pgbench_accounts SET abalance = abalance - 1 WHERE aid = $1', [1 + i]);
      await c.query('UPDATE pgbench_tellers SET tbalance = tbalance + 1 WHERE tid = $1', [1 + (i % 10)]);
      await c.query('COMMIT');
    }
    await c.end();
    await waitFor(async () => ((await count()) >= totalRecords + PACED ? true : undefined), 120_000, () => `paced verdicts missing\n${replay.logs()}`);
    const latencies: number[] = [];
    let pacedOk = 0;
    for (let seq = pacedStart + 1; seq <= pacedStart + PACED; seq++) {
      const m = await jsm.streams.getMessage(STREAMS.commitments, { seq });
      if (!m) continue;
      const rec = decodeEvent('state-commitment', m.data);
      const r = (await results.query('SELECT success, verified_at_micros::text AS v FROM bench_replay.verification_results WHERE tx_id = $1', [rec.transactionId])).rows[0] as { success: boolean; v: string } | undefined;
      if (!r) continue;
      if (r.success) pacedOk++;
      latencies.push(Number(BigInt(r.v) - rec.commitTimeUnixMicros) / 1000);
    }
    proxy.sampleRss();
    replay.sampleRss();

    const f = {
      pgbench: runs,
      addedSelectP95Ms: runs['select-proxy']!.p95 - runs['select-direct']!.p95,
      addedUpdateTxP95Ms: runs['update-proxy']!.p95 - runs['update-direct']!.p95,
      dmlWithCaptureP50Ms: pct(dmlMs, 50),
      dmlWithCaptureP95Ms: pct(dmlMs, 95),
      replayVerifiedPerSec: perSec,
      replayBacklog: totalRecords,
      replayBacklogVerifiedOk: span.ok,
      replayP50Ms: pct(latencies, 50),
      replayP95Ms: pct(latencies, 95),
      pacedVerifiedOk: pacedOk,
      paced: PACED,
      proxyPeakRssMiB: (proxy.peakRssKiB ?? 0) / 1024,
      replayPeakRssMiB: (replay.peakRssKiB ?? 0) / 1024,
    };
    const meta = { cpu: os.cpus()[0]?.model, cores: os.cpus().length, node: process.version, seconds: SECONDS, dml: DML, paced: PACED, rate: RATE, workers: WORKERS, clients: CLIENTS, quick };
    if (json) {
      console.log(JSON.stringify({ meta, figures: f, targets: TARGETS, seedTargets: SEED_TARGETS }));
      return;
    }
    const ms = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
    const rows: [string, string, string, string][] = [
      ['figure', 'measured', 'target', 'seed target'],
      ['pgbench select-only tps, direct / proxy', `${runs['select-direct']!.tps.toFixed(0)} / ${runs['select-proxy']!.tps.toFixed(0)}`, '', ''],
      ['pgbench simple-update tps, direct / proxy (capture on)', `${runs['update-direct']!.tps.toFixed(0)} / ${runs['update-proxy']!.tps.toFixed(0)}`, '', ''],
      ['SELECT p95 ms, direct / proxy (1 client)', `${ms(runs['select-direct']!.p95)} / ${ms(runs['select-proxy']!.p95)}`, '', ''],
      ['added SELECT p95 ms', ms(f.addedSelectP95Ms), `≤ ${TARGETS.addedSelectP95Ms}`, `< ${SEED_TARGETS.addedSelectP95Ms}`],
      ['simple-update tx p95 ms, direct / proxy (5 statements)', `${ms(runs['update-direct']!.p95)} / ${ms(runs['update-proxy']!.p95)}`, '', ''],
      ['DML p95 ms with capture (autocommit UPDATE)', `${ms(f.dmlWithCaptureP95Ms)} (p50 ${ms(f.dmlWithCaptureP50Ms)})`, `≤ ${TARGETS.dmlP95Ms}`, `< ${SEED_TARGETS.dmlP95Ms}`],
      ['replay p95 ms per simple tx (commit → verdict)', `${ms(f.replayP95Ms)} (p50 ${ms(f.replayP50Ms)})`, `≤ ${TARGETS.replayP95Ms}`, `< ${SEED_TARGETS.replayP95Ms}`],
      [`verified tx/s (backlog of ${totalRecords}, ${WORKERS} workers)`, perSec.toFixed(0), `≥ ${TARGETS.verifiedPerSec}`, SEED_TARGETS.verifiedPerSec],
      ['verdicts success=true', `${span.ok}/${totalRecords} backlog, ${pacedOk}/${PACED} paced`, 'all', ''],
      ['peak RSS MiB, proxy / replay', `${f.proxyPeakRssMiB.toFixed(0)} / ${f.replayPeakRssMiB.toFixed(0)}`, '', ''],
    ];
    const w = [0, 1, 2, 3].map((c) => Math.max(...rows.map((r) => r[c]!.length)));
    const line = (r: string[]): string => `| ${r.map((x, i) => x.padEnd(w[i]!)).join(' | ')} |`;
    console.log(`Proxy/replay benchmark — ${meta.cpu ?? 'cpu'}, ${meta.cores} cores, Node ${process.version}${quick ? ' (--quick)' : ''}\n`);
    console.log(line(rows[0]!));
    console.log(`|${w.map((k) => '-'.repeat(k + 2)).join('|')}|`);
    for (const r of rows.slice(1)) console.log(line(r));
    console.log(`\npgbench scale 1, ${SECONDS}s per run; DML: ${DML} autocommit UPDATEs by primary key (node-postgres, extended protocol); paced: ${PACED} two-UPDATE transactions at ${RATE}/s.`);
  } finally {
    await cleanup();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exit(1);
});
