// `npm run bench:pipeline [-- --json] [-- --quick] [-- --changes N]`: the whole pipeline as built processes —
// PostgreSQL → ingest → JetStream → merkle → store → prover → gateway — on isolated databases, streams and subject
// prefixes. A writer commits INSERT transactions as fast as Postgres takes them; the table reports sustained row
// changes per second from the first commit to the signed checkpoint covering every change, each stage's rate, and
// commit → "verified proof available at the gateway" latency for one row per transaction. It reports; it asserts
// nothing.
//
// Options: --changes N (default 100,000; --quick 20,000), --tx-size N (rows per transaction, 500), --rate N (row
// changes/s the writer aims at; 0 = unthrottled, the default), --checkpoint-ms N / --checkpoint-changes N (merkle's
// MERKLE_CHECKPOINT_EVERY_MS / _EVERY_CHANGES, 250 / 10,000), --concurrency N (gateway requests in flight, 8),
// --no-build (use the existing dist/apps bundles), --debezium (also run the Debezium path: bench/pipeline-debezium.ts),
// --store-server own (the store on a PostgreSQL server of its own, as a deployment has it: bench/pipeline/store-server.ts;
// default shared, a database of the source's server), --warmup N (N rows of the same workload through the whole
// pipeline before the clock starts, their proofs fetched and verified; default 0: the services start cold).
import os from 'node:os';
import pg from 'pg';
import { decodeEvent } from '@merklesync/protocol';
import { NATS, PG_URL, choiceArg, flag, intArg } from './args.ts';
import { CpuMeter, pidOf, selfCpu, v8WorkerCpu } from './pipeline/cpu.ts';
import { debeziumRows, measureDebezium, type DebeziumFigures } from './pipeline-debezium.ts';
import { Infra, runWithInfra } from './pipeline/infra.ts';
import { LatencyProber } from './pipeline/latency.ts';
import { Abort, buildAppsUnlessSkipped, sleep, waitFor } from './pipeline/process.ts';
import { StageSampler, type CheckpointEvents, type StageSample } from './pipeline/stages.ts';
import { CREATE_TABLE, TABLE, runWriter, type CommittedTx } from './pipeline/workload.ts';
import { printTable } from './table.ts';

const num = (name: string, dflt: number): number => intArg(name, dflt, 0);

const json = flag('--json');
const quick = flag('--quick');
const CHANGES = num('--changes', quick ? 20_000 : 100_000);
const TX_SIZE = num('--tx-size', 500);
const RATE = num('--rate', 0);
const CHECKPOINT_MS = num('--checkpoint-ms', 250);
const CHECKPOINT_CHANGES = num('--checkpoint-changes', 10_000);
const CONCURRENCY = num('--concurrency', 8);
const WARMUP = num('--warmup', 0);
if (CHANGES < 1 || TX_SIZE < 1 || CONCURRENCY < 1) throw new RangeError('--changes, --tx-size and --concurrency must be at least 1');

const TARGETS = { changesPerSec: 30_000, p99Ms: 1_000 };
const PEERS = [
  { name: 'ElectricSQL', figure: '4,000–6,000 row changes/s' },
  { name: 'PowerSync', figure: '2,000–4,000 ops/s' },
];

const progress = (msg: string): void => {
  process.stderr.write(`[bench:pipeline] ${msg}\n`);
};

const STORE_SERVER = choiceArg('--store-server', ['shared', 'own'] as const, 'shared');
const infra = new Infra({ pgUrl: PG_URL, nats: NATS, table: TABLE, checkpointEveryMs: CHECKPOINT_MS, checkpointEveryChanges: CHECKPOINT_CHANGES, storeServer: STORE_SERVER });

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Rate over the middle 80 % of a stage's progress (10 % → 90 %): its own pace, without start-up and tail. */
function steadyRate(samples: readonly StageSample[], f: (s: StageSample) => number, from: number, to: number, changes: number): number {
  const a = samples.find((s) => f(s) >= from + 0.1 * (to - from));
  const b = samples.find((s) => f(s) >= from + 0.9 * (to - from));
  if (!a || !b || b.t <= a.t) return Number.NaN;
  return (changes * ((f(b) - f(a)) / (to - from))) / ((b.t - a.t) / 1000);
}

async function main(interrupted: () => boolean): Promise<void> {
  const began = performance.now();
  await buildAppsUnlessSkipped(['ingest', 'merkle', 'prover', 'gateway'], progress);
  progress(`starting services (run ${infra.run})`);
  await infra.setup(async (src) => {
    await src.query(CREATE_TABLE);
  });
  const store = infra.store!;
  // A sentinel row proves the whole chain is live (source → checkpoint → gateway) before the clock starts.
  const src = new pg.Client({ connectionString: infra.srcUrl });
  await src.connect();
  await src.query(`INSERT INTO ${TABLE} (id, customer_id, sku) VALUES (0, 0, 'sentinel')`);
  await src.end();
  // The first stored checkpoint whose log holds at least `size` entries.
  const checkpointCovering = (size: number, timeoutMs: number, what: string) =>
    waitFor(
      async () => {
        infra.assertRunning();
        const cp = await store.checkpoints.latest('global');
        return cp && cp.logSize >= size ? cp : undefined;
      },
      timeoutMs,
      () => `${what} never reached a checkpoint (log size ${size})\n${infra.logs()}`,
    );
  const base = await checkpointCovering(1, 120_000, 'the sentinel');
  await waitFor(async () => ((await fetch(`${infra.gatewayUrl}/v1/checkpoints/latest`)).ok ? true : undefined), 30_000, () => `gateway serves no checkpoint\n${infra.logs()}`);
  let baseLog = base.logSize;

  // The merkle service's checkpoint events: the sampler times checkpoints by them, the prober asks the gateway then.
  const checkpointEvents: CheckpointEvents = (record) => {
    const sub = infra.nc!.subscribe(`${infra.prefix}.checkpoints`, {
      callback: (err, m) => {
        if (err) return;
        try {
          const cp = decodeEvent('checkpoint', m.data).checkpoint!;
          record(Number(cp.sequence), Number(cp.logSize));
        } catch {
          // not a checkpoint event: the store fallback still sees the checkpoint
        }
      },
    });
    return () => sub.unsubscribe();
  };
  let dead = '';
  // Stream and log size every 50 ms; each checkpoint the moment its event arrives (the store's table as a fallback).
  const sampler = new StageSampler(
    infra.jsm!,
    store,
    infra.streams.changes,
    50,
    () => {
      if (!dead && infra.services.some((s) => !s.running)) dead = infra.services.filter((s) => !s.running).map((s) => s.app).join(', ');
    },
    checkpointEvents,
  );
  const newProber = (baseLogSize: number): LatencyProber =>
    new LatencyProber({
      gatewayUrl: infra.gatewayUrl,
      source: infra.source,
      table: TABLE,
      master: infra.master,
      policy: infra.policy,
      baseLogSize,
      concurrency: CONCURRENCY,
      // The prober learns of a new checkpoint from the merkle service's checkpoint event (as a push-fed edge would)
      // and asks the gateway at once; the poll is the fallback. Polling every 10 ms instead cost the gateway and the
      // store ≈ 2 CPU-s per 100k changes on these two shared cores, taken from the pipeline under test.
      pollMs: 100,
      onCheckpointEvent: (wake) => checkpointEvents(() => wake()),
    });
  // --warmup: the same workload through every stage first, proofs included, so that the measured changes meet
  // services whose hot code V8 has already compiled, as a long-running deployment's has (a 100k run starting cold
  // spends a fifth of merkle's CPU in the JIT compiler: root README, the benchmark figures). Nothing of it is counted.
  if (WARMUP > 0) {
    progress(`warming up: ${WARMUP.toLocaleString('en-US')} rows in transactions of ${TX_SIZE}, one proof per transaction verified (not measured)`);
    const warm = newProber(baseLog);
    warm.start();
    try {
      const wtx = await runWriter({
        url: infra.srcUrl,
        changes: WARMUP,
        txSize: TX_SIZE,
        rate: RATE,
        onCommit: (tx) => warm.add(tx),
        aborted: () => interrupted() || infra.services.some((s) => !s.running),
      });
      if (wtx.at(-1)?.cumulative !== WARMUP) throw new Abort(`the warm-up stopped after ${wtx.at(-1)?.cumulative ?? 0} rows\n${infra.logs()}`);
      const want = baseLog + WARMUP;
      const cp = await checkpointCovering(want, 120_000 + WARMUP, 'the warm-up');
      if (cp.logSize !== want) throw new Error(`the log holds ${cp.logSize} entries after the warm-up, expected ${want}`);
      await waitFor(() => Promise.resolve(warm.outstanding === 0 ? true : undefined), 120_000, () => `${warm.outstanding} warm-up rows never got a verified proof\n${infra.logs()}`);
      baseLog = want;
    } finally {
      await warm.stop();
    }
  }
  const target = baseLog + CHANGES;
  const prober = newProber(baseLog);
  // CPU of every process of the pipeline (and of this harness) from the first statement to the covering checkpoint.
  const meter = new CpuMeter();
  const nats = pidOf('nats-server');
  const trackAll = async (): Promise<void> => {
    for (const s of infra.services) if (s.pid !== undefined) meter.track(s.app, s.pid, true);
    const ws = await infra.walsenderPid();
    if (ws !== undefined) meter.track('walsender', ws);
    for (const b of await infra.storeBackendPids()) meter.track('store Postgres', b.pid, false, b.who);
    if (nats !== undefined) meter.track('nats-server', nats);
  };
  await trackAll();
  let metering = true;
  const metered = (async () => {
    while (metering) {
      await trackAll().catch(() => undefined);
      meter.poll();
      await sleep(100);
    }
  })();
  const start = await sampler.sample();
  sampler.start();
  prober.start();
  meter.start();
  const harness0 = selfCpu();
  const harnessV8w0 = v8WorkerCpu(process.pid) ?? 0;
  progress(`writing ${CHANGES.toLocaleString('en-US')} rows in transactions of ${TX_SIZE}${RATE ? ` at ${RATE.toLocaleString('en-US')} rows/s` : ' (unthrottled)'}`);
  let txs: CommittedTx[];
  let cpu: Map<string, number>;
  let v8w: Map<string, number>;
  let parts: Map<string, Map<string, number>>;
  try {
    txs = await runWriter({
      url: infra.srcUrl,
      changes: CHANGES,
      firstId: WARMUP + 1,
      txSize: TX_SIZE,
      rate: RATE,
      onConnect: (pid) => meter.track('source Postgres', pid),
      // The writer's backend ends with its connection: read its CPU while it is there (the 100 ms loop reads it
      // before that; reading every process after every transaction cost the harness more than it measured).
      onEnd: () => meter.poll(),
      onCommit: (tx) => prober.add(tx),
      aborted: () => interrupted() || dead !== '',
    });
    if (dead) throw new Error(`service(s) exited during the workload: ${dead}\n${infra.logs()}`);
    progress(`committed in ${((txs.at(-1)!.committedAt - txs[0]!.sentAt) / 1000).toFixed(2)} s; waiting for the checkpoint covering log size ${target.toLocaleString('en-US')}`);
    await waitFor(
      () => {
        if (dead) return Promise.reject(new Abort(`service(s) exited: ${dead}\n${infra.logs()}`));
        const s = sampler.samples.at(-1);
        return Promise.resolve(s && s.cpSize >= target ? s : undefined);
      },
      120_000 + CHANGES,
      () => `no checkpoint reached log size ${target} (last sample ${JSON.stringify(sampler.samples.at(-1))})\n${infra.logs()}`,
    );
    cpu = meter.stop();
    const harness = 'bench harness (writer client, prober, sampler)';
    cpu.set(harness, selfCpu() - harness0);
    v8w = meter.v8Workers();
    parts = meter.parts();
    v8w.set(harness, (v8WorkerCpu(process.pid) ?? 0) - harnessV8w0);
    progress(`waiting for ${prober.outstanding} sampled proof(s) at the gateway`);
    await waitFor(() => Promise.resolve(prober.outstanding === 0 ? true : undefined), 120_000, () => `${prober.outstanding} sampled rows never got a verified proof (misses: ${JSON.stringify([...prober.missReasons])})\n${infra.logs()}`);
  } finally {
    metering = false;
    await metered;
    await prober.stop();
    await sampler.stop();
  }
  infra.sampleRss();

  // Row size as Postgres text (the form ingest encodes), over the first 1,000 rows.
  const c = new pg.Client({ connectionString: infra.srcUrl });
  await c.connect();
  const rowBytes = Number((await c.query<{ b: string }>(`SELECT avg(octet_length(t::text))::int AS b FROM ${TABLE} t WHERE id BETWEEN 1 AND 1000`)).rows[0]?.b ?? 0);
  await c.end();

  const samples = sampler.samples;
  const t0 = txs[0]!.committedAt;
  const lastCommit = txs.at(-1)!.committedAt;
  const final = samples.at(-1)!;
  const ingestDone = samples.find((s) => s.streamMsgs >= final.streamMsgs)!;
  const applyDone = samples.find((s) => s.logSize >= target)!;
  const cpDone = samples.find((s) => s.cpSize >= target)!;
  const secs = (t: number): number => (t - t0) / 1000;
  const lat = [...prober.latenciesMs].sort((a, b) => a - b);
  const batches = final.streamMsgs - start.streamMsgs;

  const figures = {
    changes: CHANGES,
    warmupChanges: WARMUP,
    transactions: txs.length,
    txSize: TX_SIZE,
    rowTextBytes: rowBytes,
    writerRate: RATE,
    storeServer: STORE_SERVER,
    wallSeconds: { firstCommitToCheckpoint: secs(cpDone.t), total: (performance.now() - began) / 1000 },
    changesPerSec: {
      sourceCommit: CHANGES / ((lastCommit - txs[0]!.sentAt) / 1000),
      ingestPubAck: CHANGES / secs(ingestDone.t),
      ingestSteady: steadyRate(samples, (s) => s.streamMsgs, start.streamMsgs, final.streamMsgs, CHANGES),
      merkleApply: CHANGES / secs(applyDone.t),
      merkleApplySteady: steadyRate(samples, (s) => s.logSize, baseLog, target, CHANGES),
      commitToCheckpoint: CHANGES / secs(cpDone.t),
    },
    stageDoneSeconds: { lastCommit: secs(lastCommit), ingest: secs(ingestDone.t), apply: secs(applyDone.t), checkpoint: secs(cpDone.t) },
    latencyMs: { samples: lat.length, p50: percentile(lat, 50), p99: percentile(lat, 99), max: lat.at(-1) ?? Number.NaN, mean: lat.reduce((a, b) => a + b, 0) / (lat.length || 1) },
    gatewayRequests: prober.requests,
    gatewayMisses: Object.fromEntries(prober.missReasons),
    checkpoints: cpDone.cpSeq - start.cpSeq,
    batches,
    changesPerBatch: CHANGES / Math.max(1, batches),
    streamBytesPerChange: (final.streamBytes - start.streamBytes) / CHANGES,
    cpuSecondsPer100k: Object.fromEntries([...cpu].sort((a, b) => b[1] - a[1]).map(([g, c]) => [g, (c * 100_000) / CHANGES])),
    // Of those, the V8 worker threads of each Node process: optimising compilers and the collector's helpers.
    v8WorkerCpuSecondsPer100k: Object.fromEntries([...v8w].sort((a, b) => b[1] - a[1]).map(([g, c]) => [g, (c * 100_000) / CHANGES])),
    // The store's Postgres by who holds the backend (merkle's writes, the gateway's and prover's reads, autovacuum).
    storePostgresCpuSecondsPer100k: Object.fromEntries([...(parts.get('store Postgres') ?? [])].sort((a, b) => b[1] - a[1]).map(([w, c]) => [w, (c * 100_000) / CHANGES])),
    peakRssMiB: Object.fromEntries(infra.services.map((s) => [s.app, s.peakRssKiB === undefined ? null : s.peakRssKiB / 1024])),
    storeRowsPerChange: {} as Record<string, number>,
  };
  // A backend flushes its table statistics when it exits: stop merkle first, then read them.
  await infra.stopService('merkle');
  for (const [t, r] of await infra.storeRowsWritten()) if (r > 0) figures.storeRowsPerChange[t] = r / (CHANGES + WARMUP);
  await infra.teardown();
  const debezium = flag('--debezium') ? await measureDebezium({ pgUrl: PG_URL, nats: NATS, changes: CHANGES, txSize: TX_SIZE, checkpointEveryMs: CHECKPOINT_MS, checkpointEveryChanges: CHECKPOINT_CHANGES, progress }) : null;
  report(figures, debezium);
}

type Figures = {
  changes: number;
  /** Rows written through the pipeline before the measurement (--warmup). */
  warmupChanges: number;
  transactions: number;
  txSize: number;
  rowTextBytes: number;
  writerRate: number;
  wallSeconds: { firstCommitToCheckpoint: number; total: number };
  changesPerSec: Record<'sourceCommit' | 'ingestPubAck' | 'ingestSteady' | 'merkleApply' | 'merkleApplySteady' | 'commitToCheckpoint', number>;
  stageDoneSeconds: Record<'lastCommit' | 'ingest' | 'apply' | 'checkpoint', number>;
  latencyMs: { samples: number; p50: number; p99: number; max: number; mean: number };
  gatewayRequests: number;
  gatewayMisses: Record<string, number>;
  checkpoints: number;
  batches: number;
  changesPerBatch: number;
  streamBytesPerChange: number;
  cpuSecondsPer100k: Record<string, number>;
  /** Part of cpuSecondsPer100k: the Node processes' V8 worker threads (JIT compilation, GC helpers). */
  v8WorkerCpuSecondsPer100k: Record<string, number>;
  /** Part of cpuSecondsPer100k's store Postgres: per holder of the backends (application_name or backend type). */
  storePostgresCpuSecondsPer100k: Record<string, number>;
  peakRssMiB: Record<string, number | null>;
  /** Rows inserted or updated per change in the store's tables (the sentinel's and the warm-up's included). */
  storeRowsPerChange: Record<string, number>;
};

function report(f: Figures, debezium: DebeziumFigures | null = null): void {
  const meta = {
    quick,
    node: process.version,
    cpu: os.cpus()[0]?.model,
    cores: os.cpus().length,
    settings: { changes: CHANGES, warmup: WARMUP, txSize: TX_SIZE, rate: RATE, checkpointEveryMs: CHECKPOINT_MS, checkpointEveryChanges: CHECKPOINT_CHANGES, gatewayConcurrency: CONCURRENCY },
  };
  if (json) {
    console.log(JSON.stringify({ meta, figures: f, debezium, targets: TARGETS, peers: PEERS }, null, 2));
    return;
  }
  const n = (x: number): string => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a');
  const ms = (x: number): string => (Number.isFinite(x) ? `${Math.round(x).toLocaleString('en-US')} ms` : 'n/a');
  const s = (x: number): string => `${x.toFixed(2)} s`;
  const rss = (app: string): string => {
    const v = f.peakRssMiB[app];
    return v === null || v === undefined ? 'n/a' : `${Math.round(v)} MiB`;
  };
  const rows: string[][] = [
    ['measure', 'value', 'target / context'],
    ['row changes (INSERTs)', n(f.changes), `${f.rowTextBytes} B/row as text, 13 columns`],
    ...(f.warmupChanges > 0 ? [['warm-up before the clock (INSERTs)', n(f.warmupChanges), 'same workload and proofs; not measured']] : []),
    ['transactions', `${n(f.transactions)} × ${n(f.txSize)} rows`, f.writerRate ? `writer paced at ${n(f.writerRate)} rows/s` : 'writer unthrottled'],
    ['wall time, first commit → covering checkpoint', s(f.wallSeconds.firstCommitToCheckpoint), `whole run incl. build/start-up ${s(f.wallSeconds.total)}`],
    ['source commit rate (writer)', `${n(f.changesPerSec.sourceCommit)} /s`, `last commit at ${s(f.stageDoneSeconds.lastCommit)}`],
    ['ingest rate (stored + PubAck)', `${n(f.changesPerSec.ingestPubAck)} /s`, `all in stream at ${s(f.stageDoneSeconds.ingest)}; 10→90 %: ${n(f.changesPerSec.ingestSteady)} /s`],
    ['merkle apply rate (store log size)', `${n(f.changesPerSec.merkleApply)} /s`, `all applied at ${s(f.stageDoneSeconds.apply)}; 10→90 %: ${n(f.changesPerSec.merkleApplySteady)} /s`],
    ['sustained, commit → signed checkpoint', `${n(f.changesPerSec.commitToCheckpoint)} /s`, `target ≥ ${n(TARGETS.changesPerSec)} /s`],
    ['latency commit → verified proof, p50', ms(f.latencyMs.p50), `${n(f.latencyMs.samples)} samples (1 row per transaction)`],
    ['latency commit → verified proof, p99', ms(f.latencyMs.p99), `target ≤ ${ms(TARGETS.p99Ms)}`],
    ['latency commit → verified proof, max', ms(f.latencyMs.max), `mean ${ms(f.latencyMs.mean)}`],
    ['checkpoints signed / change batches', `${n(f.checkpoints)} / ${n(f.batches)}`, `${n(f.changesPerBatch)} changes/batch, ${n(f.streamBytesPerChange)} stream B/change`],
    ['gateway requests (misses)', `${n(f.gatewayRequests)} (${n(Object.values(f.gatewayMisses).reduce((a, b) => a + b, 0))})`, Object.entries(f.gatewayMisses).map(([k, v]) => `${k}: ${v}`).join(', ') || 'every request verified'],
    ['CPU s per 100k changes, all processes', Object.values(f.cpuSecondsPer100k).reduce((a, b) => a + b, 0).toFixed(2), 'first statement → covering checkpoint; by process below'],
    [
      'of which V8 worker threads (JIT + GC)',
      Object.values(f.v8WorkerCpuSecondsPer100k).reduce((a, b) => a + b, 0).toFixed(2),
      Object.entries(f.v8WorkerCpuSecondsPer100k)
        .map(([g, c]) => `${g.split(' ')[0]} ${c.toFixed(2)}`)
        .join(', '),
    ],
    [
      'of which store Postgres, by connection',
      Object.values(f.storePostgresCpuSecondsPer100k).reduce((a, b) => a + b, 0).toFixed(2),
      Object.entries(f.storePostgresCpuSecondsPer100k)
        .map(([w, c]) => `${w} ${c.toFixed(2)}`)
        .join(', '),
    ],
    ['peak RSS ingest / merkle', `${rss('ingest')} / ${rss('merkle')}`, 'VmHWM'],
    ['peak RSS prover / gateway', `${rss('prover')} / ${rss('gateway')}`, 'VmHWM'],
    ...(debezium ? debeziumRows(debezium, n) : []),
    ...PEERS.map((p) => [`context: ${p.name} (published)`, p.figure, 'other hardware and semantics; not comparable 1:1']),
  ];
  console.log(`Pipeline benchmark — ${meta.cpu ?? 'cpu'}, ${meta.cores} cores, Node ${process.version}${quick ? ' (--quick)' : ''}\n`);
  printTable(rows, (c) => c === 1);
  console.log(
    `\nServices: node dist/apps/{ingest,merkle,prover,gateway}/main.js on this machine with PostgreSQL and NATS (isolated databases, slot, streams, subject prefix;` +
      ` the store ${STORE_SERVER === 'own' ? 'on a PostgreSQL server of its own, started for the run' : "in a database of the source's PostgreSQL server; --store-server own gives it its own"}).` +
      ` Checkpoints every ${n(CHECKPOINT_MS)} ms or ${n(CHECKPOINT_CHANGES)} changes. Rates are changes / (stage complete − first commit); "10→90 %" is the` +
      ` stage's pace over the middle of its progress. Latency = client-side COMMIT → first GET /v1/blocks answer whose map proof, table-root proof and` +
      ` signed checkpoint verify and whose leaf is the committed row (≤ ${CONCURRENCY} requests in flight). With an unthrottled writer, latency includes` +
      ` the backlog; pace the writer with --rate to see latency at a given load. No assertion: the targets are for comparison.`,
  );
  console.log(
    `CPU s per 100k changes by process (/proc, 10 ms ticks; store Postgres = every backend on the store database): ` +
      Object.entries(f.cpuSecondsPer100k)
        .map(([g, c]) => `${g} ${c.toFixed(2)}`)
        .join(', ') +
      '.',
  );
  // Tables written per change (nodes, blocks) as a rate; those written per group or checkpoint as a count.
  const stored = Object.entries(f.storeRowsPerChange).sort((a, b) => b[1] - a[1]);
  const perChange = stored.filter(([, r]) => r >= 0.01).map(([t, r]) => `${t} ${r.toFixed(2)}`);
  const perRun = stored.filter(([, r]) => r < 0.01).map(([t, r]) => `${t} ${Math.round(r * (f.changes + f.warmupChanges))}`);
  console.log(
    `Store rows written (pg_stat_user_tables, inserts + updates${f.warmupChanges > 0 ? '; the warm-up included' : ''}), per change: ${perChange.join(', ') || 'n/a'}; in all, for tables written per group or checkpoint: ${perRun.join(', ') || 'n/a'}.`,
  );
}

await runWithInfra(infra, progress, main);
