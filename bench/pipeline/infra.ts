// Everything one benchmark run creates, isolated by a random run id (as test/e2e does): two databases (source and
// MerkleSync store; the store on a server of its own with `storeServer: 'own'`), a replication slot and publication,
// JetStream streams and subject prefix, key files, the four services. `teardown()` removes all of it and is safe to
// call twice or after a partial setup.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import pg from 'pg';
import {
  Keyring,
  SignatureType,
  createPolicy,
  formatSignerKey,
  formatVerifierKey,
  generateSignerKey,
  serializeKeyFile,
  verifierKeyOf,
  type CheckpointPolicy,
} from '@merklesync/crypto';
import { createStore, storeConfig, type MerkleStore } from '@merklesync/store';
import { Abort, ServiceProcess, freePort, waitFor } from './process.ts';
import { startStoreServer, type OwnServer } from './store-server.ts';

/** application_name of the harness's own store connections (left out of the services' CPU). */
const _HARNESS = 'merklesync-bench';

export interface InfraOptions {
  readonly pgUrl: string;
  readonly nats: string;
  readonly table: string;
  /** MERKLE_CHECKPOINT_EVERY_MS / _EVERY_CHANGES. */
  readonly checkpointEveryMs: number;
  readonly checkpointEveryChanges: number;
  /**
   * 'shared' (default): the store is a database on the source's server (`pgUrl`). 'own': on a PostgreSQL server of
   * its own, started for the run (store-server.ts), as a deployment has it.
   */
  readonly storeServer?: 'shared' | 'own';
}

export class Infra {
  readonly run = randomBytes(4).toString('hex');
  readonly source = `bench-${this.run}`;
  readonly prefix = `bench${this.run}`;
  readonly srcDb = `ms_bench_src_${this.run}`;
  readonly msDb = `ms_bench_ms_${this.run}`;
  readonly slot = `ms_bench_slot_${this.run}`;
  readonly streams = {
    changes: `BENCH_${this.run}_CHANGES`,
    roots: `BENCH_${this.run}_ROOTS`,
    checkpoints: `BENCH_${this.run}_CHECKPOINTS`,
    dlq: `BENCH_${this.run}_DLQ`,
  };
  readonly master: Uint8Array;
  readonly policy: CheckpointPolicy;
  readonly opts: InfraOptions;
  gatewayUrl = '';
  services: ServiceProcess[] = [];
  nc: NatsConnection | undefined;
  jsm: JetStreamManager | undefined;
  store: MerkleStore | undefined;
  private admin: pg.Client | undefined;
  /** The store server's admin connection: `admin` itself unless the store has its own server. */
  private storeAdmin: pg.Client | undefined;
  private ownServer: OwnServer | undefined;
  /** Connection string of the store's server (no database). */
  private storeServerUrl = '';
  private msPool: pg.Pool | undefined;
  private readonly dir = mkdtempSync(join(tmpdir(), 'merklesync-bench-'));
  private readonly ring = Keyring.generate('bench');
  private readonly logKey = generateSignerKey('bench.merklesync.test/log', SignatureType.Ed25519);
  private createdDbs: string[] = [];
  private tornDown = false;

  constructor(opts: InfraOptions) {
    this.opts = opts;
    this.master = this.ring.key(this.ring.currentVersion)!;
    this.policy = createPolicy({ log: formatVerifierKey(verifierKeyOf(this.logKey)), witnesses: [], threshold: 0 });
  }

  /** Connection string of the source database. */
  get srcUrl(): string {
    return `${this.opts.pgUrl}/${this.srcDb}`;
  }

  logs(): string {
    return this.services.map((s) => s.logs()).join('\n');
  }

  /**
   * Creates the databases and the source table (via `createTable`), writes key files, and starts the services
   * unless `start` is false (then `startIngest`, `startMerkle`, `startReaders` start them one stage at a time).
   */
  async setup(createTable: (src: pg.Client) => Promise<void>, start = true): Promise<void> {
    const { pgUrl, nats } = this.opts;
    this.admin = new pg.Client({ connectionString: `${pgUrl}/postgres` });
    await this.admin.connect();
    await this.admin.query(`CREATE DATABASE ${this.srcDb}`);
    this.createdDbs.push(this.srcDb);
    if (this.opts.storeServer === 'own') {
      this.ownServer = await startStoreServer();
      this.storeServerUrl = this.ownServer.url;
      this.storeAdmin = new pg.Client({ connectionString: `${this.storeServerUrl}/postgres` });
      await this.storeAdmin.connect();
      await this.storeAdmin.query(`CREATE DATABASE ${this.msDb}`); // the server goes with its databases
    } else {
      this.storeServerUrl = pgUrl;
      this.storeAdmin = this.admin;
      await this.admin.query(`CREATE DATABASE ${this.msDb}`);
      this.createdDbs.push(this.msDb);
    }
    const storeUrl = `${this.storeServerUrl}/${this.msDb}`;
    const src = new pg.Client({ connectionString: this.srcUrl });
    await src.connect();
    try {
      await createTable(src);
    } finally {
      await src.end();
    }
    writeFileSync(join(this.dir, 'master.key'), serializeKeyFile(this.ring), { mode: 0o600 });
    writeFileSync(join(this.dir, 'log.key'), formatSignerKey(this.logKey) + '\n', { mode: 0o600 });

    this.nc = await connect({ servers: nats });
    this.jsm = await jetstreamManager(this.nc);
    this.msPool = new pg.Pool({ connectionString: storeUrl, max: 2, application_name: _HARNESS });
    this.store = createStore(this.msPool, storeConfig(), { suite: 'sha256' });

    const ingest = new ServiceProcess('ingest', {
      INGEST_PG_URL: this.srcUrl,
      INGEST_SOURCE_NAME: this.source,
      INGEST_PUBLICATION: `ms_bench_pub_${this.run}`,
      INGEST_SLOT: this.slot,
      INGEST_TABLES: this.opts.table,
      INGEST_KEY_FILE: join(this.dir, 'master.key'),
      INGEST_KEY_ID: 'bench',
      INGEST_NATS_SERVERS: nats,
      INGEST_SUBJECT_PREFIX: this.prefix,
      INGEST_CHANGES_STREAM: this.streams.changes,
    });
    const merkle = new ServiceProcess('merkle', {
      MERKLE_DATABASE_URL: storeUrl,
      MERKLE_NATS_SERVERS: nats,
      MERKLE_SUBJECT_PREFIX: this.prefix,
      MERKLE_CHANGES_STREAM: this.streams.changes,
      MERKLE_ROOTS_STREAM: this.streams.roots,
      MERKLE_CHECKPOINTS_STREAM: this.streams.checkpoints,
      MERKLE_DLQ_STREAM: this.streams.dlq,
      MERKLE_CONSUMER: `merkle_${this.run}`,
      MERKLE_CHECKPOINT_KEY_FILE: join(this.dir, 'log.key'),
      MERKLE_CHECKPOINT_EVERY_MS: String(this.opts.checkpointEveryMs),
      MERKLE_CHECKPOINT_EVERY_CHANGES: String(this.opts.checkpointEveryChanges),
    });
    const prover = new ServiceProcess('prover', {
      PROVER_DATABASE_URL: storeUrl,
      PROVER_NATS_SERVERS: nats,
      PROVER_SUBJECT_PREFIX: `${this.prefix}.prover`,
    });
    const [httpPort, grpcPort] = [await freePort(), await freePort()];
    const gateway = new ServiceProcess('gateway', {
      GATEWAY_HTTP_HOST: '127.0.0.1',
      GATEWAY_HTTP_PORT: String(httpPort),
      GATEWAY_GRPC_HOST: '127.0.0.1',
      GATEWAY_GRPC_PORT: String(grpcPort),
      GATEWAY_DATABASE_URL: storeUrl,
      GATEWAY_NATS_SERVERS: nats,
      GATEWAY_PROVER_PREFIX: `${this.prefix}.prover`,
    });
    this.gatewayUrl = `http://127.0.0.1:${httpPort}`;
    this.services = [ingest, merkle, prover, gateway];

    if (start) await this.startAll();
  }

  /** Starts the services in dependency order (what `setup` does unless told not to). */
  private async startAll(): Promise<void> {
    await this.startIngest();
    await this.startMerkle();
    await this.startReaders();
  }

  private service(app: string): ServiceProcess {
    const s = this.services.find((x) => x.app === app);
    if (!s) throw new Error(`no ${app} service (setup has not run)`);
    return s;
  }

  private alive<T>(check: () => Promise<T | undefined>): () => Promise<T | undefined> {
    return async () => {
      this.assertRunning();
      return check();
    };
  }

  /** ingest first: it creates the changes stream merkle consumes. */
  async startIngest(): Promise<void> {
    const ingest = this.service('ingest');
    ingest.start();
    const jsm = this.jsm!;
    await waitFor(this.alive(() => jsm.streams.info(this.streams.changes).then(() => true)), 60_000, () => `changes stream never appeared\n${ingest.logs()}`, 100);
  }

  /** merkle (which migrates the store the others read), then the prover. */
  async startMerkle(): Promise<void> {
    const merkle = this.service('merkle');
    merkle.start();
    this.service('prover').start();
    await waitFor(
      this.alive(async () => ((await this.msPool!.query(`SELECT 1 FROM pg_tables WHERE schemaname = 'merklesync' AND tablename = 'checkpoints'`)).rowCount ? true : undefined)),
      60_000,
      () => `merkle never migrated its store\n${merkle.logs()}`,
      100,
    );
  }

  /** The gateway, once it answers. */
  async startReaders(): Promise<void> {
    const gateway = this.service('gateway');
    gateway.start();
    await waitFor(
      this.alive(async () => ((await fetch(`${this.gatewayUrl}/openapi.json`)).ok ? true : undefined)),
      60_000,
      () => `gateway never answered\n${gateway.logs()}`,
      100,
    );
  }

  /** Stops one service (SIGTERM, as a deployment would); `startIngest` etc. start it again. */
  async stopService(app: string): Promise<void> {
    await this.service(app).stop();
  }

  /** A service's peak resident set so far (VmHWM, MiB); read while it runs. */
  peakRssMiB(app: string): number | undefined {
    const s = this.service(app);
    s.sampleRss();
    return s.peakRssKiB === undefined ? undefined : s.peakRssKiB / 1024;
  }

  /** Process id of a running service. */
  servicePid(app: string): number | undefined {
    return this.service(app).pid;
  }

  /**
   * Process ids of the Postgres backends on the store database (not the harness's own connections), each with who
   * holds it: the connection's application_name (the service's NATS name), else the backend type (autovacuum worker).
   */
  async storeBackendPids(): Promise<{ pid: number; who: string }[]> {
    const r = await this.storeAdmin!.query<{ pid: number; who: string }>(
      `SELECT pid, coalesce(nullif(application_name, ''), backend_type) AS who FROM pg_stat_activity WHERE datname = $1 AND application_name <> $2`,
      [this.msDb, _HARNESS],
    );
    return r.rows;
  }

  /**
   * Rows inserted and updated per table of the store database so far (pg_stat_user_tables; the statistics are
   * flushed by each backend at the end of a transaction, at most once a second while it is busy).
   */
  async storeRowsWritten(): Promise<Map<string, number>> {
    const c = new pg.Client({ connectionString: `${this.storeServerUrl}/${this.msDb}`, application_name: _HARNESS });
    await c.connect();
    try {
      const r = await c.query<{ t: string; n: string }>(`SELECT relname AS t, (n_tup_ins + n_tup_upd)::text AS n FROM pg_stat_user_tables WHERE schemaname = 'merklesync'`);
      return new Map(r.rows.map((x) => [x.t, Number(x.n)]));
    } finally {
      await c.end();
    }
  }

  /** Process id of the walsender serving ingest's slot, while it is active. */
  async walsenderPid(): Promise<number | undefined> {
    const r = await this.admin!.query<{ pid: number | null }>(`SELECT active_pid AS pid FROM pg_replication_slots WHERE slot_name = $1`, [this.slot]);
    return r.rows[0]?.pid ?? undefined;
  }

  /** Every started service still up; else Abort (stops a waitFor at once) with the logs. */
  assertRunning(): void {
    const dead = this.services.filter((s) => s.started && !s.running);
    if (dead.length > 0) throw new Abort(`service(s) exited: ${dead.map((s) => s.app).join(', ')}\n${this.logs()}`);
  }

  sampleRss(): void {
    for (const s of this.services) s.sampleRss();
  }

  async teardown(): Promise<void> {
    if (this.tornDown) return;
    this.tornDown = true;
    await Promise.all(this.services.map((s) => s.stop().catch(() => undefined)));
    await this.msPool?.end().catch(() => undefined);
    if (this.nc) {
      const jsm = this.jsm ?? (await jetstreamManager(this.nc).catch(() => undefined));
      for (const name of Object.values(this.streams)) await jsm?.streams.delete(name).catch(() => undefined);
      await this.nc.close().catch(() => undefined);
    }
    if (this.admin) {
      await this.admin.query(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1`, [this.slot]).catch(() => undefined);
      for (const db of this.createdDbs) await this.admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`).catch(() => undefined);
      await this.admin.end().catch(() => undefined);
    }
    if (this.ownServer) {
      await this.storeAdmin?.end().catch(() => undefined);
      this.ownServer.stop();
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Runs a benchmark's `main` with `infra`: Ctrl-C or SIGTERM tears everything down and exits (130); a failure is
 * reported through `progress`, torn down, and sets exit code 1. `interrupted()` tells `main` to stop early.
 */
export async function runWithInfra(infra: Infra, progress: (msg: string) => void, main: (interrupted: () => boolean) => Promise<void>): Promise<void> {
  let interrupted = false;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      interrupted = true;
      progress(`${sig}: cleaning up`);
      void infra.teardown().finally(() => process.exit(130));
    });
  }
  try {
    await main(() => interrupted);
  } catch (e) {
    // After Ctrl-C the signal handler tears down; whatever failed because of it is not news.
    if (!interrupted) progress(`failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    await infra.teardown();
    process.exitCode = 1;
  }
}
