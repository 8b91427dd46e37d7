// Configuration: read once, validated, and a bad value stops start-up with a message naming the variable.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadIngestConfig, parsePgUrl } from '../src/config.ts';
import { createHarness, type IngestHarness } from './support/harness.ts';

const BASE = {
  INGEST_SOURCE_NAME: 'pg-main',
  INGEST_PG_URL: 'postgres://app:s3cret@db.example:6543/shop?sslmode=require',
  INGEST_KEY_FILE: '/keys/master.key',
  INGEST_KEY_ID: 'prod-1',
};

function variableOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).message.startsWith(`${(e as ConfigError).variable}: `)).toBe(true);
    return (e as ConfigError).variable;
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  it('fills in defaults', () => {
    const c = loadIngestConfig(BASE);
    expect(c.source).toMatchObject({ name: 'pg-main', publication: 'merklesync', slot: 'merklesync_pg_main', tables: null, stateSchema: 'merklesync_ingest' });
    expect(c.source.connection).toEqual({ host: 'db.example', port: 6543, user: 'app', password: 's3cret', database: 'shop', ssl: { rejectUnauthorized: false } });
    expect(c.stream).toEqual({ name: 'MS_CHANGES', subjectPrefix: 'ms', subjects: ['ms.changes.>'], duplicateWindowMs: 120_000, maxAgeMs: 0, replicas: 1 });
    expect(loadIngestConfig({ ...BASE, INGEST_STREAM_REPLICAS: '3' }).stream.replicas).toBe(3);
    expect(loadIngestConfig({ ...BASE, INGEST_SUBJECT_PREFIX: 'e2e1' }).stream).toMatchObject({ subjectPrefix: 'e2e1', subjects: ['e2e1.changes.>'] });
    expect(c.keys).toEqual({ file: '/keys/master.key', kid: 'prod-1', commitmentAlgorithm: 'hmac-sha256', commitmentKeyVersion: 1 });
    expect(c.source.batch).toEqual({ maxChanges: 1000, maxBytes: 1 << 20 });
    expect(c.nats.servers).toEqual(['127.0.0.1:4222']);
  });

  it.each([
    [{ INGEST_SOURCE_NAME: undefined }, 'INGEST_SOURCE_NAME'],
    [{ INGEST_SUBJECT_PREFIX: 'a.b' }, 'INGEST_SUBJECT_PREFIX'],
    [{ INGEST_STREAM_REPLICAS: '0' }, 'INGEST_STREAM_REPLICAS'],
    [{ INGEST_STREAM_REPLICAS: '6' }, 'INGEST_STREAM_REPLICAS'],
    [{ INGEST_SOURCE_NAME: 'a.b' }, 'INGEST_SOURCE_NAME'],
    [{ INGEST_PG_URL: undefined }, 'INGEST_PG_URL'],
    [{ INGEST_PG_URL: 'mysql://x/y' }, 'INGEST_PG_URL'],
    [{ INGEST_PG_URL: 'postgres://host:5432/' }, 'INGEST_PG_URL'],
    [{ INGEST_KEY_FILE: '  ' }, 'INGEST_KEY_FILE'],
    [{ INGEST_KEY_ID: 'bad id' }, 'INGEST_KEY_ID'],
    [{ INGEST_COMMITMENT_ALGORITHM: 'md5' }, 'INGEST_COMMITMENT_ALGORITHM'],
    [{ INGEST_SLOT: 'Bad-Slot' }, 'INGEST_SLOT'],
    [{ INGEST_TABLES: 'public.a,,b' }, 'INGEST_TABLES'],
    [{ INGEST_BATCH_MAX_CHANGES: 'many' }, 'INGEST_BATCH_MAX_CHANGES'],
    [{ INGEST_BATCH_MAX_CHANGES: '20000' }, 'INGEST_BATCH_MAX_CHANGES'],
    [{ INGEST_CHANGES_MAX_AGE_MS: '1000' }, 'INGEST_DUPLICATE_WINDOW_MS'],
    [{ INGEST_NATS_SERVERS: 'a:1,,b:2' }, 'INGEST_NATS_SERVERS'],
  ])('rejects %o naming %s', (patch, variable) => {
    expect(variableOf(() => loadIngestConfig({ ...BASE, ...patch }))).toBe(variable);
  });

  it('parses connection URLs', () => {
    expect(parsePgUrl('X', 'postgresql://127.0.0.1/db')).toEqual({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'db' });
    expect(variableOf(() => parsePgUrl('X', 'postgres://h/db?sslmode=prefer'))).toBe('X');
  });
});

describe('start-up with bad key material or an unreachable database', () => {
  let h: IngestHarness;
  beforeAll(async () => {
    h = await createHarness();
    await h.db.query('CREATE TABLE t (id int8 PRIMARY KEY)');
  }, 30_000);
  afterAll(async () => {
    await h?.dispose();
  });

  it('fails naming INGEST_KEY_ID when the key file lacks the key id', async () => {
    await expect(h.startApp(h.config({ INGEST_KEY_ID: 'other-kid', INGEST_TABLES: 't' }))).rejects.toThrow(/INGEST_KEY_ID/);
  });

  it('fails naming INGEST_KEY_FILE when the file is missing', async () => {
    await expect(h.startApp(h.config({ INGEST_KEY_FILE: '/nonexistent/master.key', INGEST_TABLES: 't' }))).rejects.toThrow(/INGEST_KEY_FILE/);
  });

  it('fails with the source error when a captured table does not exist', async () => {
    await expect(h.startApp(h.config({ INGEST_TABLES: 'public.missing' }))).rejects.toThrow(/TABLE_NOT_FOUND/);
  });
});

describe('INGEST_SOURCE_KIND=debezium', () => {
  const DBZ = { INGEST_SOURCE_NAME: 'pg-main', INGEST_KEY_FILE: '/k', INGEST_KEY_ID: 'k', INGEST_SOURCE_KIND: 'debezium', INGEST_TABLES: 'public.users', INGEST_KAFKA_BROKERS: 'kafka:9092', INGEST_KAFKA_TOPIC_PREFIX: 'app' };

  it('needs Kafka settings and the tables, not the database', () => {
    const c = loadIngestConfig(DBZ);
    expect(c.source.kind).toBe('debezium');
    expect(c.source.connection).toBeNull();
    expect(c.source.debezium).toEqual({ brokers: ['kafka:9092'], topicPrefix: 'app', groupId: 'merklesync-ingest-pg-main', deadLetterTopic: 'app.merklesync.dlq', decimalMode: 'string', binaryMode: 'bytes', catalog: false });
    expect(loadIngestConfig({ ...DBZ, INGEST_PG_URL: 'postgres://u@h/db' }).source.debezium!.catalog).toBe(true);
  });

  it('names the bad variable', () => {
    expect(variableOf(() => loadIngestConfig({ ...DBZ, INGEST_SOURCE_KIND: 'mysql' }))).toBe('INGEST_SOURCE_KIND');
    expect(variableOf(() => loadIngestConfig({ ...DBZ, INGEST_KAFKA_BROKERS: '' }))).toBe('INGEST_KAFKA_BROKERS');
    expect(variableOf(() => loadIngestConfig({ ...DBZ, INGEST_KAFKA_BROKERS: 'nohost' }))).toBe('INGEST_KAFKA_BROKERS');
    expect(variableOf(() => loadIngestConfig({ ...DBZ, INGEST_KAFKA_TOPIC_PREFIX: undefined }))).toBe('INGEST_KAFKA_TOPIC_PREFIX');
    expect(variableOf(() => loadIngestConfig({ ...DBZ, INGEST_TABLES: undefined }))).toBe('INGEST_TABLES');
    expect(variableOf(() => loadIngestConfig({ ...DBZ, INGEST_DEBEZIUM_DECIMAL_MODE: 'float' }))).toBe('INGEST_DEBEZIUM_DECIMAL_MODE');
    expect(variableOf(() => loadIngestConfig({ ...DBZ, INGEST_DEBEZIUM_CATALOG: 'true' }))).toBe('INGEST_PG_URL');
  });
});

describe('INGEST_SOURCE_KIND=mongodb', () => {
  const MONGO = { INGEST_SOURCE_NAME: 'shop', INGEST_KEY_FILE: '/k', INGEST_KEY_ID: 'k', INGEST_SOURCE_KIND: 'mongodb', INGEST_MONGO_URL: 'mongodb://m:27017/?replicaSet=rs0', INGEST_MONGO_DATABASE: 'shop' };

  it('reads the MongoDB settings', () => {
    const c = loadIngestConfig({ ...MONGO, INGEST_MONGO_COLLECTIONS: 'orders, users', INGEST_MONGO_PRE_IMAGES: 'true' });
    expect(c.source.kind).toBe('mongodb');
    expect(c.source.mongo).toEqual({ url: MONGO.INGEST_MONGO_URL, database: 'shop', collections: ['orders', 'users'], stateDatabase: 'merklesync_state', preImages: true, snapshot: true });
    expect(loadIngestConfig(MONGO).source.mongo!.collections).toBeNull();
  });

  it('names the bad variable', () => {
    expect(variableOf(() => loadIngestConfig({ ...MONGO, INGEST_MONGO_URL: undefined }))).toBe('INGEST_MONGO_URL');
    expect(variableOf(() => loadIngestConfig({ ...MONGO, INGEST_MONGO_URL: 'http://x' }))).toBe('INGEST_MONGO_URL');
    expect(variableOf(() => loadIngestConfig({ ...MONGO, INGEST_MONGO_DATABASE: 'a.b' }))).toBe('INGEST_MONGO_DATABASE');
    expect(variableOf(() => loadIngestConfig({ ...MONGO, INGEST_MONGO_STATE_DATABASE: 'shop' }))).toBe('INGEST_MONGO_STATE_DATABASE');
    expect(variableOf(() => loadIngestConfig({ ...MONGO, INGEST_MONGO_SNAPSHOT: 'yes' }))).toBe('INGEST_MONGO_SNAPSHOT');
  });
});
