// `npm run bench:stages [-- --json] [-- --changes N] [-- --tx-size N]`: each stage of the pipeline alone, draining a
// backlog with the machine to itself — what ingest and merkle each sustain, and what each costs in CPU per change,
// without the other stages competing for the same cores (bench:pipeline runs them all at once).
//
//   1. The source: the writer commits the workload while ingest is stopped (its slot keeps the WAL).
//   2. ingest alone: started again, it decodes, encodes, seals and publishes the backlog to JetStream.
//   3. merkle alone: started on the full stream, it applies every change, stores the trees and signs checkpoints.
//
// Rates and CPU are taken between 5 % and 95 % of each stage's progress (sampled every 20 ms), which leaves out
// process start-up and the tail. CPU is read from /proc for the service, the Postgres processes it drives (the
// walsender for ingest; the store's backends for merkle) and nats-server. It reports; it asserts nothing.
//
// Options: --changes N (default 100,000), --tx-size N (rows per transaction, 500; at most ingest's batch bound of
// 1,000, so each transaction is one bus message), --checkpoint-ms N / --checkpoint-changes N (250 / 10,000),
// --no-build (use the existing dist/apps bundles), --store-server own (the store on a PostgreSQL server of its own:
// bench/pipeline/store-server.ts; default shared).
import os from 'node:os';
import pg from 'pg';
import { NATS, PG_URL, choiceArg, flag, intArg } from './args.ts';
import { CpuMeter, pidOf } from './pipeline/cpu.ts';
import { Infra, runWithInfra } from './pipeline/infra.ts';
import { buildAppsUnlessSkipped, sleep, waitFor } from './pipeline/process.ts';
import { CREATE_TABLE, TABLE, runWriter } from './pipeline/workload.ts';
import { printTable } from './table.ts';

const num = (name: string, dflt: number, min = 1): number => intArg(name, dflt, min);
const json = flag('--json');
const CHANGES = num('--changes', 100_000);
const TX_SIZE = num('--tx-size', 500);
const CHECKPOINT_MS = num('--checkpoint-ms', 250);
const CHECKPOINT_CHANGES = num('--checkpoint-changes', 10_000);
const PER = 100_000;
const INGEST_BATCH_MAX = 1_000; // apps/ingest's INGEST_BATCH_MAX_CHANGES default
if (TX_SIZE > INGEST_BATCH_MAX) throw new RangeError(`--tx-size must be at most ${INGEST_BATCH_MAX} (one bus message per transaction)`);

const progress = (msg: string): void => {
  process.stderr.write(`[bench:stages] ${msg}\n`);
};

/** One stage's figures over its 5 → 95 % window. */
interface StageFigures {
  readonly changesPerSec: number;
  /** CPU seconds per 100,000 changes, per process group. */
  readonly cpuPer100k: Record<string, number>;
  readonly windowChanges: number;
  readonly windowSeconds: number;
  /** The service's peak resident set (VmHWM), MiB. */
  peakRssMiB?: number;
}

/**
 * Samples `done()` (changes the stage has finished) every 20 ms until it reaches `total`; the meter runs from the
 * first sample at ≥ 5 % to the first at ≥ 95 %. `track` is called before each sample (new processes join the meter).
 */
async function measureStage(total: number, done: () => Promise<number>, track: (m: CpuMeter) => Promise<void>, meter: CpuMeter, alive: () => void): Promise<StageFigures> {
  const lo = 0.05 * total;
  const hi = 0.95 * total;
  let from: { t: number; n: number } | undefined;
  const deadline = performance.now() + 120_000 + total;
  for (;;) {
    alive();
    await track(meter);
    const n = await done();
    const t = performance.now();
    if (from === undefined && n >= lo) {
      meter.start();
      from = { t, n };
    }
    if (from !== undefined && n >= hi) {
      const cpu = meter.stop();
      const changes = n - from.n;
      const secs = (t - from.t) / 1000;
      const cpuPer100k: Record<string, number> = {};
      for (const [g, c] of cpu) cpuPer100k[g] = (c * PER) / changes;
      return { changesPerSec: changes / secs, cpuPer100k, windowChanges: changes, windowSeconds: secs };
    }
    if (t > deadline) throw new Error(`stage stuck at ${n} of ${total} changes`);
    meter.poll();
    await sleep(20);
  }
}

const STORE_SERVER = choiceArg('--store-server', ['shared', 'own'] as const, 'shared');
const infra = new Infra({ pgUrl: PG_URL, nats: NATS, table: TABLE, checkpointEveryMs: CHECKPOINT_MS, checkpointEveryChanges: CHECKPOINT_CHANGES, storeServer: STORE_SERVER });

async function main(interrupted: () => boolean): Promise<void> {
  await buildAppsUnlessSkipped(['ingest', 'merkle', 'prover', 'gateway'], progress);
  progress(`setting up (run ${infra.run})`);
  await infra.setup(async (src) => {
    await src.query(CREATE_TABLE);
  }, false);
  const jsm = infra.jsm!;
  const store = infra.store!;
  const nats = pidOf('nats-server');
  const alive = (): void => infra.assertRunning();
  const streamMsgs = async (): Promise<number> => (await jsm.streams.info(infra.streams.changes)).state.messages;

  // The slot and stream exist once ingest has streamed one row; then ingest stops and the backlog builds up.
  await infra.startIngest();
  const sentinel = new pg.Client({ connectionString: infra.srcUrl });
  await sentinel.connect();
  await sentinel.query(`INSERT INTO ${TABLE} (id, customer_id, sku) VALUES (0, 0, 'sentinel')`);
  await sentinel.end();
  await waitFor(async () => {
    alive();
    return (await streamMsgs()) >= 1 ? true : undefined;
  }, 60_000, () => `the sentinel never reached the stream\n${infra.logs()}`);
  await infra.stopService('ingest');
  const baseMsgs = await streamMsgs();

  progress(`source: writing ${CHANGES.toLocaleString('en-US')} rows in transactions of ${TX_SIZE} with ingest stopped`);
  const srcMeter = new CpuMeter();
  const t0 = performance.now();
  const txs = await runWriter({
    url: infra.srcUrl,
    changes: CHANGES,
    txSize: TX_SIZE,
    rate: 0,
    onConnect: (pid) => {
      srcMeter.track('source Postgres', pid);
      srcMeter.start();
    },
    // The backend ends with the writer's connection: read its CPU while it is there.
    onCommit: () => srcMeter.poll(),
    aborted: interrupted,
  });
  const srcSecs = (performance.now() - t0) / 1000;
  const source: StageFigures = { changesPerSec: CHANGES / srcSecs, cpuPer100k: { 'source Postgres': ((srcMeter.stop().get('source Postgres') ?? 0) * PER) / CHANGES }, windowChanges: CHANGES, windowSeconds: srcSecs };

  progress('ingest alone: draining the backlog into JetStream');
  await infra.startIngest();
  const ingest = await measureStage(
    txs.length,
    async () => (await streamMsgs()) - baseMsgs,
    async (m) => {
      const svc = infra.servicePid('ingest');
      if (svc !== undefined) m.track('ingest', svc);
      const ws = await infra.walsenderPid();
      if (ws !== undefined) m.track('walsender', ws);
      if (nats !== undefined) m.track('nats-server', nats);
    },
    new CpuMeter(),
    alive,
  );
  // The stage counted transactions (one bus message each); its figures are per change.
  const perTx = CHANGES / txs.length;
  const ingestPerChange: StageFigures = {
    changesPerSec: ingest.changesPerSec * perTx,
    cpuPer100k: Object.fromEntries(Object.entries(ingest.cpuPer100k).map(([g, c]) => [g, c / perTx])),
    windowChanges: ingest.windowChanges * perTx,
    windowSeconds: ingest.windowSeconds,
  };
  await waitFor(
    async () => {
      alive();
      return (await streamMsgs()) >= baseMsgs + txs.length ? true : undefined;
    },
    60_000,
    () => `ingest never published every transaction\n${infra.logs()}`,
  );
  ingestPerChange.peakRssMiB = infra.peakRssMiB('ingest');
  await infra.stopService('ingest');

  progress('merkle alone: applying the stream');
  await infra.startMerkle();
  const logSize = async (): Promise<number> => (await store.logs.head('global'))?.size ?? 0;
  const merkle = await measureStage(
    CHANGES + 1,
    logSize,
    async (m) => {
      const svc = infra.servicePid('merkle');
      if (svc !== undefined) m.track('merkle', svc);
      for (const b of await infra.storeBackendPids()) m.track('store Postgres', b.pid);
      if (nats !== undefined) m.track('nats-server', nats);
    },
    new CpuMeter(),
    alive,
  );
  await waitFor(
    async () => {
      alive();
      return ((await store.checkpoints.latest('global'))?.logSize ?? 0) >= CHANGES + 1 ? true : undefined;
    },
    120_000,
    () => `no checkpoint covered the whole log\n${infra.logs()}`,
  );
  merkle.peakRssMiB = infra.peakRssMiB('merkle');
  // A backend flushes its table statistics when it exits: stop merkle first, then read them.
  await infra.stopService('merkle');
  const rows = await infra.storeRowsWritten();
  await infra.teardown();
  report({ source, ingest: ingestPerChange, merkle }, rows);
}

function report(stages: Record<'source' | 'ingest' | 'merkle', StageFigures>, storeRows: Map<string, number>): void {
  const cores = os.cpus().length;
  const meta = { node: process.version, cpu: os.cpus()[0]?.model, cores, changes: CHANGES, txSize: TX_SIZE, checkpointEveryMs: CHECKPOINT_MS, checkpointEveryChanges: CHECKPOINT_CHANGES, storeServer: STORE_SERVER };
  const total = (s: StageFigures): number => Object.values(s.cpuPer100k).reduce((a, b) => a + b, 0);
  // Rows merkle wrote (inserted or updated) per change, by store table, over the whole run (the sentinel included);
  // tables with fewer than 0.005 per change (log tiles, roots, checkpoints) are left out.
  const perChange = [...storeRows].filter(([, r]) => r / (CHANGES + 1) >= 0.005).sort((a, b) => b[1] - a[1]).map(([t, r]) => [t, r / (CHANGES + 1)] as const);
  if (json) {
    console.log(JSON.stringify({ meta, stages: Object.fromEntries(Object.entries(stages).map(([k, s]) => [k, { ...s, cpuPer100kTotal: total(s) }])), storeRowsPerChange: Object.fromEntries(perChange) }, null, 2));
    return;
  }
  const n = (x: number): string => Math.round(x).toLocaleString('en-US');
  const rows: string[][] = [['stage (alone)', 'changes/s', 'CPU s / 100k', 'CPU by process (s / 100k)', 'peak RSS']];
  const names = { source: 'source: INSERT transactions', ingest: 'ingest: pgoutput → JetStream', merkle: 'merkle: stream → store + checkpoints' };
  for (const [k, s] of Object.entries(stages) as ['source' | 'ingest' | 'merkle', StageFigures][]) {
    const by = Object.entries(s.cpuPer100k)
      .sort((a, b) => b[1] - a[1])
      .map(([g, c]) => `${g} ${c.toFixed(2)}`)
      .join(', ');
    rows.push([names[k], n(s.changesPerSec), total(s).toFixed(2), by, s.peakRssMiB === undefined ? '' : `${Math.round(s.peakRssMiB)} MiB`]);
  }
  console.log(`Pipeline stages alone — ${meta.cpu ?? 'cpu'}, ${cores} cores, Node ${process.version}, ${n(CHANGES)} changes in transactions of ${TX_SIZE}\n`);
  printTable(rows, (c) => c === 1 || c === 2 || c === 4);
  console.log(
    `\nEach stage drained the previous one's backlog with the machine to itself; figures are over 5 → 95 % of its progress` +
      ` (${stages.ingest.windowSeconds.toFixed(2)} s for ingest, ${stages.merkle.windowSeconds.toFixed(2)} s for merkle). CPU from /proc (10 ms ticks).` +
      ` A stage's CPU per change is its cost on ${cores} cores whatever else runs; bench:pipeline runs all stages at once.` +
      ` The store ${STORE_SERVER === 'own' ? 'had a PostgreSQL server of its own' : "was a database of the source's PostgreSQL server"}.`,
  );
  console.log(`Store rows written per change (pg_stat_user_tables, inserts + updates): ${perChange.map(([t, r]) => `${t} ${r.toFixed(2)}`).join(', ') || 'n/a'}.`);
}

await runWithInfra(infra, progress, main);
