/**
 * Test isolation for the ingest service on the shared servers: one throw-away database, a unique source name (so
 * subjects `ms.changes.<source>.>` are this file's alone), its own stream, slot, publication and key file.
 * `dispose()` removes all of it (slots before the database).
 */
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { jetstreamManager, type JetStreamManager, type StoredMsg } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import pg from 'pg';
import { Keyring, LocalKeyProvider, serializeKeyFile } from '@merklesync/crypto';
import { AppModule } from '../../src/app.module.ts';
import { loadIngestConfig, type IngestConfig } from '../../src/config.ts';
import { IngestPipeline } from '../../src/ingest/ingest-pipeline.service.ts';
import type { IngestOverrides } from '../../src/ingest/ingest.module.ts';

export const PG = { host: '127.0.0.1', port: 5432, user: 'postgres' };
export const NATS_URL = '127.0.0.1:4222';

export interface IngestHarness {
  readonly id: string;
  readonly database: string;
  readonly source: string;
  /** First subject token of this harness's change subjects (`<prefix>.changes.<source>.<table>`). */
  readonly prefix: string;
  readonly stream: string;
  readonly slot: string;
  readonly kid: string;
  readonly keys: LocalKeyProvider;
  readonly db: pg.Client;
  readonly nc: NatsConnection;
  readonly jsm: JetStreamManager;
  /** The environment the service would get; tests override single variables. */
  env(extra?: Record<string, string>): Record<string, string>;
  config(extra?: Record<string, string>): IngestConfig;
  startApp(config: IngestConfig, overrides?: IngestOverrides): Promise<{ app: INestApplicationContext; pipeline: IngestPipeline }>;
  /** Every message of the test stream, raw, in stream order. */
  readStream(): Promise<StoredMsg[]>;
  dispose(): Promise<void>;
}

export async function createHarness(): Promise<IngestHarness> {
  const id = randomBytes(5).toString('hex');
  const database = `ms_ingest_${id}`;
  const admin = new pg.Client({ ...PG, database: 'postgres' });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  const db = new pg.Client({ ...PG, database });
  await db.connect();
  const dir = await mkdtemp(join(tmpdir(), 'ms-ingest-'));
  const kid = `test-${id}`;
  const ring = Keyring.generate(kid);
  const keyFile = join(dir, 'master.key');
  await writeFile(keyFile, serializeKeyFile(ring), { mode: 0o600 });
  const nc = await connect({ servers: NATS_URL, name: `ingest-test-${id}` });
  const jsm = await jetstreamManager(nc);
  const source = `ti${id}`;
  const prefix = `ti${id}`;
  const stream = `TI_${id.toUpperCase()}`;
  const slot = `ms_ingest_${id}`;
  const apps: INestApplicationContext[] = [];
  const env = (extra: Record<string, string> = {}): Record<string, string> => ({
    INGEST_SOURCE_NAME: source,
    INGEST_PG_URL: `postgres://${PG.user}@${PG.host}:${PG.port}/${database}`,
    INGEST_PUBLICATION: `ms_pub_${id}`,
    INGEST_SLOT: slot,
    INGEST_KEY_FILE: keyFile,
    INGEST_KEY_ID: kid,
    INGEST_NATS_SERVERS: NATS_URL,
    INGEST_CHANGES_STREAM: stream,
    // Its own first subject token: never the production `ms.*` namespace, which a running MerkleSync on this
    // NATS (npm start) owns with streams of its own.
    INGEST_SUBJECT_PREFIX: prefix,
    INGEST_CHANGES_SUBJECTS: `${prefix}.changes.>`,
    ...extra,
  });
  return {
    id,
    database,
    source,
    prefix,
    stream,
    slot,
    kid,
    keys: new LocalKeyProvider([ring]),
    db,
    nc,
    jsm,
    env,
    config: (extra) => loadIngestConfig(env(extra)),
    async startApp(config, overrides = {}) {
      const app = await NestFactory.createApplicationContext(AppModule.forRoot(config, overrides), { abortOnError: false, logger: ['error', 'warn'] });
      apps.push(app);
      return { app, pipeline: app.get(IngestPipeline) };
    },
    async readStream() {
      const info = await jsm.streams.info(stream);
      const out: StoredMsg[] = [];
      for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
        const m = await jsm.streams.getMessage(stream, { seq });
        if (m) out.push(m);
      }
      return out;
    },
    async dispose() {
      for (const app of apps) await app.close().catch(() => undefined);
      await jsm.streams.delete(stream).catch(() => undefined);
      await nc.close();
      await db.end().catch(() => undefined);
      const deadline = Date.now() + 10_000;
      for (;;) {
        const r = await admin.query<{ slot_name: string; active_pid: number | null }>('SELECT slot_name, active_pid FROM pg_replication_slots WHERE database = $1', [database]);
        if (r.rows.length === 0) break;
        for (const s of r.rows) {
          if (s.active_pid !== null) await admin.query('SELECT pg_terminate_backend($1)', [s.active_pid]);
          else await admin.query('SELECT pg_drop_replication_slot($1)', [s.slot_name]).catch(() => undefined);
        }
        if (Date.now() > deadline) throw new Error(`slots of ${database} still active`);
        await new Promise((r) => setTimeout(r, 20));
      }
      await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await admin.end();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` until it returns something other than undefined/false, failing after `ms`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
