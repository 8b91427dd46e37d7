// `npm run bench:floor [-- --json] [-- --changes N]`: the CPU floor of the pipeline on this machine — what the
// parts MerkleSync does not write (or cannot avoid) cost per row change, measured one at a time on the same
// workload as `bench:pipeline`, none of them running MerkleSync's services:
//
//   1. the source Postgres backend that runs the INSERT transactions;
//   2. logical decoding of those transactions by pgoutput (the walsender's work, run in a backend through
//      pg_logical_slot_get_binary_changes), in text mode (what ingest reads) and in binary mode;
//   3. the JetStream server storing the same bytes ingest publishes (500 changes per message, PubAck each) and
//      delivering them to one pull consumer that acks each;
//   4. the row cryptography every change needs (AES-256-GCM seal of the row, keyed map key and leaf commitment),
//      on rows already encoded, in this process;
//   5. the trees: every change into the per-table map in groups, and its leaf (with the block's hash) onto the log;
//   6. the store's Postgres writing each group's new map nodes (packed in chunk rows, libs/store README "Node
//      chunks") and one block row per change, through libs/store's COPY paths, one transaction per group
//      (bench/pipeline/store-floor.ts); and, for comparison, writing the same trees as nibble-aligned 16-way pages,
//      one row each (the pages each group rewrites, computed from the real trees, written as rows of the size such a
//      page would have): what a Jellyfish-style node layout would cost the store instead.
//
// The sum is a lower bound: it leaves out parsing pgoutput, encoding rows, protobuf, the NATS and Postgres client
// libraries, the store's other writes (log nodes, roots, checkpoints) and all coordination. CPU is read from /proc (other processes) and
// process.cpuUsage (this one) around each step; the table gives CPU seconds per 100,000 changes and compares the
// sum with what a rate needs on this many cores. It reports; it asserts nothing.
//
// Options: --changes N (default 100,000), --tx-size N (500), --group N (changes per map update, 8,000),
// --stream-bytes N (bus bytes per change, 554 as bench:pipeline measured), --target N (changes/s, 30,000).
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { AckPolicy, StorageType, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, headers } from '@nats-io/transport-node';
import pg from 'pg';
import { commitMapKey, commitRow, deriveCommitmentKeys, deriveTableSecret, encodePrimaryKey, encodeRow, fromPgText, sealBlock, type PgValue } from '@merklesync/crypto';
import { NATS, PG_URL, flag, intArg } from './args.ts';
import { pidOf, procCpu, selfCpu } from './pipeline/cpu.ts';
import { StoreFloor } from './pipeline/store-floor.ts';
import { CREATE_TABLE, TABLE, runWriter } from './pipeline/workload.ts';
import { printTable } from './table.ts';

// Loaded dynamically like the rest of bench/ loads it (bench/impls.ts, bench/map.ts; Nx forbids mixing).
const { LogTree, SparseMerkleMap, getHashSuite } = await import('@merklesync/merkle');

const num = (name: string, dflt: number): number => intArg(name, dflt, 1);
const json = flag('--json');
const CHANGES = num('--changes', 100_000);
const TX_SIZE = num('--tx-size', 500);
const GROUP = num('--group', 8_000);
const STREAM_BYTES = num('--stream-bytes', 554);
const TARGET = num('--target', 30_000);
const PER = 100_000;

const progress = (msg: string): void => {
  process.stderr.write(`[bench:floor] ${msg}\n`);
};

interface Step {
  readonly name: string;
  /** CPU seconds for the whole run. */
  readonly cpu: number;
  readonly note: string;
  /** Part of the lower bound (false: an alternative shown for comparison). */
  readonly inSum: boolean;
}

const run = randomBytes(4).toString('hex');
const db = `ms_bench_floor_${run}`;
const slots = { text: `ms_floor_text_${run}`, binary: `ms_floor_bin_${run}` };
const publication = `ms_floor_pub_${run}`;
const stream = `BENCH_FLOOR_${run}`;

async function sourceSteps(admin: pg.Client): Promise<{ steps: Step[]; rows: Record<string, PgValue>[] }> {
  await admin.query(`CREATE DATABASE ${db}`);
  const url = `${PG_URL}/${db}`;
  const src = new pg.Client({ connectionString: url });
  await src.connect();
  try {
    await src.query(CREATE_TABLE);
    await src.query(`CREATE PUBLICATION ${publication} FOR TABLE ${TABLE}`);
    for (const slot of Object.values(slots)) await src.query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [slot]);

    progress(`writing ${CHANGES.toLocaleString('en-US')} rows in transactions of ${TX_SIZE}`);
    let writerPid = 0;
    let writerCpu = 0;
    await runWriter({
      url,
      changes: CHANGES,
      txSize: TX_SIZE,
      rate: 0,
      onConnect: (pid) => {
        writerPid = pid;
        writerCpu = -procCpu(pid);
      },
      // Read before the writer disconnects (its backend exits then).
      onCommit: (tx) => {
        if (tx.cumulative === CHANGES) writerCpu += procCpu(writerPid);
      },
      aborted: () => false,
    });
    const steps: Step[] = [{ name: 'source Postgres: INSERT transactions', cpu: writerCpu, note: `${TX_SIZE} rows per transaction, server-generated`, inSum: true }];

    const self = (await src.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    for (const [mode, slot] of Object.entries(slots)) {
      progress(`decoding with pgoutput (${mode})`);
      const opts = mode === 'binary' ? `, 'binary', 'true'` : '';
      const c0 = procCpu(self);
      let changes = 0;
      let bytes = 0;
      for (;;) {
        // In slices, so the result set stays small; each call ends at a transaction boundary.
        const r = await src.query<{ n: number; b: string }>(
          `SELECT count(*)::int AS n, coalesce(sum(length(data)), 0)::bigint AS b
             FROM pg_logical_slot_get_binary_changes($1, NULL, 20000, 'proto_version', '1', 'publication_names', $2${opts})`,
          [slot, publication],
        );
        const { n, b } = r.rows[0]!;
        if (n === 0) break;
        changes += n;
        bytes += Number(b);
      }
      const cpu = procCpu(self) - c0;
      steps.push({
        name: `logical decoding, pgoutput ${mode}`,
        cpu,
        note: `${changes.toLocaleString('en-US')} messages, ${(bytes / CHANGES).toFixed(0)} B/change${mode === 'text' ? ' (what ingest reads)' : ' (for comparison)'}`,
        inSum: mode === 'text',
      });
    }

    // Rows as ingest sees them (text typed by column OID), to encode for the crypto step.
    const text = new pg.Client({ connectionString: url, types: { getTypeParser: () => (v: string) => v } });
    await text.connect();
    const res = await text.query<Record<string, string | null>>(`SELECT * FROM ${TABLE} WHERE id BETWEEN 1 AND 1000 ORDER BY id`);
    await text.end();
    const rows = res.rows.map((row) => Object.fromEntries(res.fields.map((f) => [f.name, fromPgText(f.dataTypeID, row[f.name] ?? null)])));
    return { steps, rows };
  } finally {
    await src.end();
  }
}

async function jetStreamStep(): Promise<Step> {
  const pid = pidOf('nats-server');
  if (pid === undefined) throw new Error('no nats-server process on this machine to measure');
  const nc = await connect({ servers: NATS });
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  try {
    await jsm.streams.add({ name: stream, subjects: [`benchfloor${run}.>`], storage: StorageType.File, duplicate_window: 120e9 });
    const messages = Math.ceil(CHANGES / TX_SIZE);
    const payload = randomBytes(TX_SIZE * STREAM_BYTES);
    progress(`JetStream: ${messages} messages of ${payload.length.toLocaleString('en-US')} bytes, published and consumed`);
    const n0 = procCpu(pid);
    const s0 = selfCpu();
    const inFlight = new Set<Promise<unknown>>();
    for (let i = 0; i < messages; i++) {
      const h = headers();
      h.set('Nats-Msg-Id', `floor-${i}`);
      const p = js.publish(`benchfloor${run}.changes.t`, payload, { headers: h });
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
      if (inFlight.size >= 64) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    await jsm.consumers.add(stream, { durable_name: 'floor', ack_policy: AckPolicy.Explicit });
    const consumer = await js.consumers.get(stream, 'floor');
    const it = await consumer.consume({ max_messages: 64 });
    let got = 0;
    for await (const m of it) {
      m.ack();
      if (++got === messages) break;
    }
    await nc.flush();
    const server = procCpu(pid) - n0;
    const client = selfCpu() - s0;
    return { name: 'JetStream server: store + deliver', cpu: server, note: `${STREAM_BYTES} B/change (file storage, PubAck, explicit ack); this client: ${(client * (PER / CHANGES)).toFixed(2)} s`, inSum: true };
  } finally {
    await jsm.streams.delete(stream).catch(() => undefined);
    await nc.close();
  }
}

/**
 * Row cryptography, the trees and the store, group by group (as merkle groups changes): per group, every change's
 * block is sealed and its map key and leaf committed (timed as one step), then the group goes into the map and onto
 * the log (timed as the other), then the store writes it (Postgres CPU, see StoreFloor). Only one group is alive at
 * a time, as in the services.
 */
async function cryptoTreeAndStoreSteps(rows: Record<string, PgValue>[], store: StoreFloor): Promise<Step[]> {
  progress('row cryptography, trees and store writes');
  const master = randomBytes(32);
  const keys = deriveCommitmentKeys(deriveTableSecret(master, 'floor', TABLE), 'hmac-sha256');
  const dataKey = { kid: 'floor', version: 1, key: new Uint8Array(randomBytes(32)) };
  const encoded = rows.map((r) => encodeRow(r));
  // A distinct key per change, as every INSERT of the workload has its own primary key (encoded beforehand: the
  // primary key's encoding is not cryptography).
  const pks = Array.from({ length: CHANGES }, (_, i) => encodePrimaryKey([{ type: 'int8', value: BigInt(i + 1) }]));
  const suite = getHashSuite('sha256');
  const map = new SparseMerkleMap({ suite: 'sha256' });
  const log = new LogTree(suite);
  let root = map.emptyRoot;
  let cryptoCpu = 0;
  let treeCpu = 0;
  for (let at = 0; at < CHANGES; at += GROUP) {
    const n = Math.min(GROUP, CHANGES - at);
    const mapKeys: Uint8Array[] = new Array(n);
    const leaves: Uint8Array[] = new Array(n);
    const blocks: Uint8Array[] = new Array(n);
    const c0 = selfCpu();
    for (let j = 0; j < n; j++) {
      const i = at + j;
      const bytes = encoded[i % encoded.length]!;
      mapKeys[j] = commitMapKey(keys, TABLE, pks[i]!);
      blocks[j] = sealBlock(dataKey, { source: 'floor', table: TABLE, primaryKey: pks[i]!, rowVersion: BigInt(i + 1) }, bytes);
      leaves[j] = commitRow(keys, bytes);
    }
    const c1 = selfCpu();
    const mark = map.store.mark();
    root = map.update(
      root,
      mapKeys.map((key, j) => ({ key, value: leaves[j]! })),
    );
    // The log leaf commits to the block by its hash (apps/merkle log-leaf.ts); ~100 bytes each.
    log.appendMany(
      blocks.map((block, j) => {
        const leaf = new Uint8Array(96);
        leaf.set(mapKeys[j]!, 0);
        leaf.set(leaves[j]!, 32);
        leaf.set(suite.digest(block), 64);
        return leaf;
      }),
    );
    const c2 = selfCpu();
    cryptoCpu += c1 - c0;
    treeCpu += c2 - c1;
    await store.writeGroup(
      map,
      mark,
      root,
      mapKeys.map((mapKey, j) => ({ mapKey, leaf: leaves[j]!, block: blocks[j]!, rowVersion: BigInt(at + j + 1), logIndex: at + j })),
    );
  }
  const r = store.result;
  const perChange = (n: number): string => (n / CHANGES).toFixed(2);
  const avg = encoded.reduce((a, e) => a + e.length, 0) / encoded.length;
  return [
    { name: 'row crypto: AES-256-GCM seal + 2 HMAC-SHA256', cpu: cryptoCpu, note: `rows already encoded (${avg.toFixed(0)} B); node:crypto`, inSum: true },
    { name: 'trees: map update + log append', cpu: treeCpu, note: `groups of ${GROUP.toLocaleString('en-US')} changes, sha256, in memory (no store writes)`, inSum: true },
    { name: 'store Postgres: map nodes', cpu: r.nodes.cpu, note: `${perChange(r.nodes.rows)} nodes/change in ${perChange(r.nodes.chunks)} chunk rows/change, binary COPY`, inSum: true },
    { name: 'store Postgres: blocks', cpu: r.blocks.cpu, note: `${perChange(r.blocks.rows)} blocks/change in ${perChange(r.blocks.chunks)} chunk rows/change, binary COPY`, inSum: true },
    {
      name: 'store Postgres: map as 16-way pages',
      cpu: r.pages.cpu,
      note: `${perChange(r.pages.rows)} rows/change of ${(r.pages.bytes / Math.max(1, r.pages.rows)).toFixed(0)} B: the same trees, one row per nibble-aligned page, not chunked`,
      inSum: false,
    },
  ];
}

async function main(): Promise<void> {
  const admin = new pg.Client({ connectionString: `${PG_URL}/postgres` });
  await admin.connect();
  let steps: Step[];
  try {
    const source = await sourceSteps(admin);
    steps = [...source.steps, await jetStreamStep()];
    const store = await StoreFloor.open(`${PG_URL}/${db}`, 'floor', 'floor', TABLE);
    try {
      steps.push(...(await cryptoTreeAndStoreSteps(source.rows, store)));
    } finally {
      await store.close();
    }
  } finally {
    for (const slot of Object.values(slots)) await admin.query(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1`, [slot]).catch(() => undefined);
    await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
  }
  report(steps);
}

function report(steps: Step[]): void {
  const cores = os.cpus().length;
  const per = (cpu: number): number => cpu * (PER / CHANGES);
  const sum = steps.filter((s) => s.inSum).reduce((a, s) => a + per(s.cpu), 0);
  const budget = (cores * PER) / TARGET;
  const ceiling = (cores * PER) / sum;
  if (json) {
    const out = {
      meta: { node: process.version, cpu: os.cpus()[0]?.model, cores, changes: CHANGES, txSize: TX_SIZE, group: GROUP, streamBytesPerChange: STREAM_BYTES },
      steps: steps.map((s) => ({ name: s.name, cpuSecondsPer100k: per(s.cpu), inLowerBound: s.inSum, note: s.note })),
      lowerBoundCpuSecondsPer100k: sum,
      budgetCpuSecondsPer100k: { rate: TARGET, seconds: budget },
      ceilingChangesPerSec: ceiling,
    };
    console.log(JSON.stringify(out, null, 2));
    return;
  }
  const rows: string[][] = [
    ['step', 'CPU s / 100k changes', 'what was measured'],
    ...steps.map((s) => [s.inSum ? s.name : `(${s.name})`, per(s.cpu).toFixed(2), s.note]),
    ['lower bound (sum of the steps above)', sum.toFixed(2), 'parsing, row encoding, protobuf, client libraries and the rest of the store come on top'],
    [`budget at ${TARGET.toLocaleString('en-US')} changes/s on ${cores} cores`, budget.toFixed(2), `${cores} cores × 100,000 / ${TARGET.toLocaleString('en-US')}`],
    ['ceiling if only these steps ran', `${Math.round(ceiling).toLocaleString('en-US')} /s`, `${cores} cores fully busy`],
  ];
  console.log(`Pipeline CPU floor — ${os.cpus()[0]?.model ?? 'cpu'}, ${cores} cores, Node ${process.version}, ${CHANGES.toLocaleString('en-US')} changes\n`);
  printTable(rows, (c) => c === 1);
  console.log(
    '\nEach step ran alone on the bench:pipeline workload. Postgres and NATS CPU is read from /proc (10 ms ticks), this' +
      ' process\'s from process.cpuUsage. A step in parentheses is an alternative, not part of the sum.',
  );
}

try {
  await main();
} catch (e) {
  progress(`failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  process.exitCode = 1;
}
