// The Debezium path of bench:pipeline (`npm run bench:pipeline -- --debezium`): PostgreSQL → Debezium (Kafka Connect)
// → Kafka → ingest (INGEST_SOURCE_KIND=debezium) → JetStream → merkle → signed checkpoint, with the same writer and
// table as the logical-replication run. Needs `bash test/infra/kafka.sh start`. Reports row changes per second from
// the first commit until (a) every change is in Kafka (Debezium's own pace) and (b) a signed checkpoint covers them
// all (end to end). Isolated like the main run: its own databases, connector, slot, topics, streams; all removed.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { Keyring, SignatureType, formatSignerKey, generateSignerKey, serializeKeyFile } from '@merklesync/crypto';
import { createStore, storeConfig } from '@merklesync/store';
import { KAFKA, debeziumConnectorConfig, deleteConnector, kafkaAvailable, registerConnector } from '@merklesync/testkit';
import { Abort, ServiceProcess, waitFor } from './pipeline/process.ts';
import { CREATE_TABLE, TABLE, runWriter } from './pipeline/workload.ts';

export interface DebeziumBenchOptions {
  readonly pgUrl: string;
  readonly nats: string;
  readonly changes: number;
  readonly txSize: number;
  readonly checkpointEveryMs: number;
  readonly checkpointEveryChanges: number;
  readonly progress: (msg: string) => void;
}

export interface DebeziumFigures {
  changes: number;
  /** changes / (last change in Kafka − first commit) */
  intoKafkaPerSec: number;
  /** changes / (covering checkpoint − first commit) */
  commitToCheckpointPerSec: number;
  secondsIntoKafka: number;
  secondsToCheckpoint: number;
  writerPerSec: number;
}

/**
 * Runs the Debezium path once and returns its figures; removes everything it created, also on failure.
 * @throws Error when Kafka Connect is not reachable (start it with test/infra/kafka.sh) or a stage stalls.
 */
export async function measureDebezium(o: DebeziumBenchOptions): Promise<DebeziumFigures> {
  if (!(await kafkaAvailable())) throw new Error(`--debezium: Kafka Connect is not reachable at ${KAFKA.connectUrl}; run bash test/infra/kafka.sh start`);
  const run = randomBytes(4).toString('hex');
  const srcDb = `ms_benchdbz_src_${run}`;
  const msDb = `ms_benchdbz_ms_${run}`;
  const slot = `ms_benchdbz_slot_${run}`;
  const topicPrefix = `benchdbz${run}`;
  const connector = `ms_benchdbz_${run}`;
  const prefix = `benchdbz${run}`;
  const streams = { changes: `BENCHDBZ_${run}_CHANGES`, roots: `BENCHDBZ_${run}_ROOTS`, checkpoints: `BENCHDBZ_${run}_CHECKPOINTS`, dlq: `BENCHDBZ_${run}_DLQ` };
  const dir = mkdtempSync(join(tmpdir(), 'merklesync-bench-dbz-'));
  const ring = Keyring.generate('bench');
  const admin = new pg.Client({ connectionString: `${o.pgUrl}/postgres` });
  const kafka = new Kafka({ brokers: KAFKA.brokers, logLevel: logLevel.NOTHING });
  const kadmin = kafka.admin();
  const nc = await connect({ servers: o.nats });
  const pool = new pg.Pool({ connectionString: `${o.pgUrl}/${msDb}`, max: 2 });
  const services: ServiceProcess[] = [];
  await admin.connect();
  await kadmin.connect();
  try {
    for (const db of [srcDb, msDb]) await admin.query(`CREATE DATABASE ${db}`);
    const src = new pg.Client({ connectionString: `${o.pgUrl}/${srcDb}` });
    await src.connect();
    await src.query(CREATE_TABLE);
    await src.end();
    writeFileSync(join(dir, 'master.key'), serializeKeyFile(ring), { mode: 0o600 });
    writeFileSync(join(dir, 'log.key'), formatSignerKey(generateSignerKey('bench.merklesync.test/log', SignatureType.Ed25519)) + '\n', { mode: 0o600 });
    const u = new URL(o.pgUrl);
    o.progress(`debezium: registering connector ${connector}`);
    await registerConnector(
      connector,
      debeziumConnectorConfig({ host: u.hostname, port: Number(u.port || 5432), user: decodeURIComponent(u.username || 'postgres'), password: decodeURIComponent(u.password), database: srcDb, topicPrefix, tables: [TABLE], slot, publication: `ms_benchdbz_pub_${run}` }),
    );
    const ingest = new ServiceProcess('ingest', {
      INGEST_SOURCE_KIND: 'debezium',
      INGEST_KAFKA_BROKERS: KAFKA.brokers.join(','),
      INGEST_KAFKA_TOPIC_PREFIX: topicPrefix,
      INGEST_KAFKA_GROUP_ID: `ms_benchdbz_${run}`,
      INGEST_SOURCE_NAME: `benchdbz-${run}`,
      INGEST_TABLES: TABLE,
      INGEST_KEY_FILE: join(dir, 'master.key'),
      INGEST_KEY_ID: 'bench',
      INGEST_NATS_SERVERS: o.nats,
      INGEST_SUBJECT_PREFIX: prefix,
      INGEST_CHANGES_STREAM: streams.changes,
    });
    const merkle = new ServiceProcess('merkle', {
      MERKLE_DATABASE_URL: `${o.pgUrl}/${msDb}`,
      MERKLE_NATS_SERVERS: o.nats,
      MERKLE_SUBJECT_PREFIX: prefix,
      MERKLE_CHANGES_STREAM: streams.changes,
      MERKLE_ROOTS_STREAM: streams.roots,
      MERKLE_CHECKPOINTS_STREAM: streams.checkpoints,
      MERKLE_DLQ_STREAM: streams.dlq,
      MERKLE_CONSUMER: `merkle_${run}`,
      MERKLE_CHECKPOINT_KEY_FILE: join(dir, 'log.key'),
      MERKLE_CHECKPOINT_EVERY_MS: String(o.checkpointEveryMs),
      MERKLE_CHECKPOINT_EVERY_CHANGES: String(o.checkpointEveryChanges),
    });
    services.push(ingest, merkle);
    const logs = (): string => services.map((s) => s.logs()).join('\n');
    ingest.start();
    const jsm = await jetstreamManager(nc);
    await waitFor(() => jsm.streams.info(streams.changes).then(() => true, () => undefined), 60_000, () => `debezium: changes stream never appeared\n${logs()}`);
    merkle.start();
    const store = createStore(pool, storeConfig(), { suite: 'sha256' });

    // The sentinel (id 0) proves the chain is live before the clock starts.
    const s = new pg.Client({ connectionString: `${o.pgUrl}/${srcDb}` });
    await s.connect();
    await s.query(`INSERT INTO ${TABLE} (id, customer_id, sku) VALUES (0, 0, 'sentinel')`);
    await s.end();
    const alive = (): void => {
      const dead = services.filter((x) => x.started && !x.running);
      if (dead.length > 0) throw new Abort(`debezium: ${dead.map((x) => x.app).join(', ')} exited\n${logs()}`);
    };
    await waitFor(
      async () => {
        alive();
        return ((await store.checkpoints.latest('global'))?.logSize ?? 0) >= 1 || undefined;
      },
      180_000,
      () => `debezium: the sentinel never reached a checkpoint\n${logs()}`,
    );
    const topic = `${topicPrefix}.${TABLE}`;
    const kafkaEnd = async (): Promise<number> => Number((await kadmin.fetchTopicOffsets(topic)).reduce((n, p) => n + BigInt(p.high), 0n));
    const kafkaBase = await kafkaEnd();
    const target = 1 + o.changes;

    // Sample Kafka's end offset and the checkpoint while the writer runs.
    let intoKafka = Number.NaN;
    let covered = Number.NaN;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const now = performance.now();
        if (Number.isNaN(intoKafka) && (await kafkaEnd()) - kafkaBase >= o.changes) intoKafka = now;
        const cp = await store.checkpoints.latest('global');
        if (Number.isNaN(covered) && cp && cp.logSize >= target) covered = now;
        if (!Number.isNaN(covered)) return;
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    o.progress(`debezium: writing ${o.changes.toLocaleString('en-US')} rows in transactions of ${o.txSize}`);
    const txs = await runWriter({ url: `${o.pgUrl}/${srcDb}`, changes: o.changes, txSize: o.txSize, rate: 0, onCommit: () => undefined, aborted: () => services.some((x) => !x.running) });
    const t0 = txs[0]!.committedAt;
    await waitFor(
      () => {
        alive();
        return Promise.resolve(Number.isNaN(covered) ? undefined : true);
      },
      300_000 + o.changes,
      () => `debezium: no checkpoint covered log size ${target}\n${logs()}`,
    );
    sampling = false;
    await sampler;
    const secs = (t: number): number => (t - t0) / 1000;
    return {
      changes: o.changes,
      intoKafkaPerSec: o.changes / secs(intoKafka),
      commitToCheckpointPerSec: o.changes / secs(covered),
      secondsIntoKafka: secs(intoKafka),
      secondsToCheckpoint: secs(covered),
      writerPerSec: o.changes / ((txs.at(-1)!.committedAt - txs[0]!.sentAt) / 1000),
    };
  } finally {
    await Promise.all(services.map((x) => x.stop().catch(() => undefined)));
    await deleteConnector(connector);
    await pool.end().catch(() => undefined);
    const jsm = await jetstreamManager(nc).catch(() => undefined);
    for (const name of Object.values(streams)) await jsm?.streams.delete(name).catch(() => undefined);
    await nc.close().catch(() => undefined);
    const topics = (await kadmin.listTopics().catch(() => [] as string[])).filter((t) => t.startsWith(`${topicPrefix}.`) || t === `__debezium-heartbeat.${topicPrefix}`);
    if (topics.length > 0) await kadmin.deleteTopics({ topics }).catch(() => undefined);
    await kadmin.disconnect().catch(() => undefined);
    // The connector's slot outlives the connector (its task may still hold it for a moment).
    for (let i = 0; i < 50; i++) {
      const r = await admin.query<{ active_pid: number | null }>('SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1', [slot]).catch(() => ({ rows: [] }));
      const row = r.rows[0];
      if (!row) break;
      if (row.active_pid !== null) await admin.query('SELECT pg_terminate_backend($1)', [row.active_pid]).catch(() => undefined);
      else await admin.query('SELECT pg_drop_replication_slot($1)', [slot]).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 100));
    }
    for (const db of [srcDb, msDb]) await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`).catch(() => undefined);
    await admin.end().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The rows bench:pipeline adds to its table for the Debezium path. */
export function debeziumRows(f: DebeziumFigures, n: (x: number) => string): string[][] {
  return [
    ['Debezium path: commit → in Kafka', `${n(f.intoKafkaPerSec)} /s`, `all ${n(f.changes)} changes in the topic at ${f.secondsIntoKafka.toFixed(2)} s (writer ${n(f.writerPerSec)} /s)`],
    ['Debezium path: commit → signed checkpoint', `${n(f.commitToCheckpointPerSec)} /s`, `at ${f.secondsToCheckpoint.toFixed(2)} s; public figure: Debezium ≈ 6,000 ops/s on AWS MSK Connect`],
  ];
}
