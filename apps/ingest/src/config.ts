// The ingest service's configuration: read from the environment ONCE (the only place that touches process.env is
// main.ts, which passes it here), validated into a typed object. Start-up fails fast naming the bad variable.
import { COMMITMENT_ALGORITHMS, isCommitmentAlgorithm, type CommitmentAlgorithm } from '@merklesync/crypto';
import type { NatsConnectionConfig } from '@merklesync/messaging';
import { Streams, SUBJECT_PREFIX } from '@merklesync/protocol';

/** A bad or missing configuration variable. `variable` names it (e.g. `INGEST_PG_URL`). */
export class ConfigError extends Error {
  readonly code = 'INVALID_CONFIG' as const;
  readonly variable: string;
  constructor(variable: string, why: string) {
    super(`${variable}: ${why}`);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

/** node-postgres connection settings of the source database (parsed from `INGEST_PG_URL`). */
export interface PgConnectionSettings {
  host: string;
  port: number;
  user: string;
  password?: string;
  database: string;
  ssl?: boolean | { rejectUnauthorized: boolean };
}

/** Kafka settings of the Debezium source (`INGEST_SOURCE_KIND=debezium`). */
export interface DebeziumSettings {
  brokers: string[];
  /** The connector's topic.prefix. */
  topicPrefix: string;
  groupId: string;
  deadLetterTopic: string;
  /** The connector's decimal.handling.mode / binary.handling.mode, for records without schemas. */
  decimalMode: 'precise' | 'string' | 'double';
  binaryMode: 'bytes' | 'base64' | 'base64-url-safe' | 'hex';
  /** Read column types from the source database (INGEST_PG_URL) for records without type parameters. */
  catalog: boolean;
}

/** Settings of the MongoDB change-stream source (`INGEST_SOURCE_KIND=mongodb`). */
export interface MongoSettings {
  url: string;
  database: string;
  /** Collections to watch; null: the whole database. */
  collections: string[] | null;
  /** Database of the resume-token collection (kept out of the watched one). */
  stateDatabase: string;
  preImages: boolean;
  snapshot: boolean;
}

/** The validated configuration of the ingest service. */
export interface IngestConfig {
  source: {
    /** Where changes come from: pgoutput logical replication, Debezium events from Kafka, or MongoDB change streams. */
    kind: 'pg' | 'debezium' | 'mongodb';
    /** Source name: routing metadata on every subject and event (`ms.changes.<name>.<table>`), `[A-Za-z0-9_-]{1,64}`. */
    name: string;
    /** The source database; null for `debezium` without INGEST_PG_URL (then no catalog and no state table). */
    connection: PgConnectionSettings | null;
    publication: string;
    slot: string;
    /** `schema.table` list, or null for every table of the (existing) publication. */
    tables: string[] | null;
    batch: { maxChanges: number; maxBytes: number };
    maxUnackedBatches: number;
    /** Schema (in the source database) of the durable source-state table. */
    stateSchema: string;
    /** Set when kind is `debezium`. */
    debezium: DebeziumSettings | null;
    /** Set when kind is `mongodb`. */
    mongo: MongoSettings | null;
  };
  keys: {
    /** Path of a libs/crypto key file (JSON, mode 0600). */
    file: string;
    /** Master key id in that file. */
    kid: string;
    commitmentAlgorithm: CommitmentAlgorithm;
    /** Master key version the commitment keys derive from (the commitment epoch; stable across rotations). */
    commitmentKeyVersion: number;
  };
  nats: NatsConnectionConfig;
  stream: {
    name: string;
    /** First token of the change subjects (`<prefix>.changes.<source>.<table>`); `ms` unless a deployment isolates itself. */
    subjectPrefix: string;
    subjects: string[];
    /** JetStream dedup window for `Nats-Msg-Id`, ms: a restart later than this after a crash may store a batch twice. */
    duplicateWindowMs: number;
    /** Oldest message kept, ms; 0 = unlimited. */
    maxAgeMs: number;
    /** JetStream replicas of the changes stream (1 on a single server; 3 on a 3-node cluster). */
    replicas: number;
  };
  pipeline: {
    /** Source batches whose publishes may await PubAcks at once (acks to the source stay in order). */
    maxInFlightBatches: number;
    /** Attempts of a batch publish that failed transiently (timeout, disconnected) before the pipeline stops. */
    publishAttempts: number;
  };
}

type Env = Readonly<Record<string, string | undefined>>;

function _get(env: Env, name: string): string | undefined {
  const v = env[name];
  if (v === undefined) return undefined;
  const t = v.trim();
  return t === '' ? undefined : t;
}

function _required(env: Env, name: string): string {
  const v = _get(env, name);
  if (v === undefined) throw new ConfigError(name, 'is required');
  return v;
}

function _int(env: Env, name: string, dflt: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const v = _get(env, name);
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v)) throw new ConfigError(name, `must be an integer, got ${JSON.stringify(v)}`);
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new ConfigError(name, `must be in ${min}..${max}, got ${v}`);
  return n;
}

function _match(env: Env, name: string, value: string, re: RegExp, what: string): string {
  if (!re.test(value)) throw new ConfigError(name, `must be ${what}, got ${JSON.stringify(value)}`);
  return value;
}

/**
 * Parses `postgres://user:pass@host:port/db?sslmode=…` into node-postgres settings.
 * @throws ConfigError naming `variable`.
 */
export function parsePgUrl(variable: string, text: string): PgConnectionSettings {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(variable, 'must be a URL like postgres://user@host:5432/database');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') throw new ConfigError(variable, `scheme must be postgres://, got ${url.protocol}`);
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!database) throw new ConfigError(variable, 'must name the database (postgres://…/<database>)');
  if (!url.hostname) throw new ConfigError(variable, 'must name the host');
  const port = url.port ? Number(url.port) : 5432;
  const out: PgConnectionSettings = { host: url.hostname, port, user: decodeURIComponent(url.username || 'postgres'), database };
  if (url.password) out.password = decodeURIComponent(url.password);
  const sslmode = url.searchParams.get('sslmode');
  switch (sslmode) {
    case null:
    case 'disable':
      break;
    case 'require':
      out.ssl = { rejectUnauthorized: false };
      break;
    case 'verify-full':
      out.ssl = true;
      break;
    default:
      throw new ConfigError(variable, `sslmode must be disable, require or verify-full, got ${sslmode}`);
  }
  return out;
}

const _NAME = /^[A-Za-z0-9_-]{1,64}$/;
const _SLOT = /^[a-z0-9_]{1,63}$/;
const _IDENT = /^[a-z_][a-z0-9_]{0,62}$/;
const _TABLE = /^[^.\s,]+(\.[^.\s,]+)?$/;

/**
 * Reads and validates the configuration. Every variable is documented in apps/ingest/README.md.
 * @throws ConfigError naming the first bad variable.
 * @example const config = loadIngestConfig(process.env);
 */
export function loadIngestConfig(env: Env): IngestConfig {
  const name = _match(env, 'INGEST_SOURCE_NAME', _required(env, 'INGEST_SOURCE_NAME'), _NAME, '1..64 of [A-Za-z0-9_-]');
  const kind = _get(env, 'INGEST_SOURCE_KIND') ?? 'pg';
  if (kind !== 'pg' && kind !== 'debezium' && kind !== 'mongodb') throw new ConfigError('INGEST_SOURCE_KIND', `must be pg, debezium or mongodb, got ${JSON.stringify(kind)}`);
  const pgUrl = kind === 'pg' ? _required(env, 'INGEST_PG_URL') : _get(env, 'INGEST_PG_URL');
  const connection = pgUrl === undefined ? null : parsePgUrl('INGEST_PG_URL', pgUrl);
  const publication = _match(env, 'INGEST_PUBLICATION', _get(env, 'INGEST_PUBLICATION') ?? 'merklesync', _IDENT, 'a lower-case identifier');
  const defaultSlot = `merklesync_${name.toLowerCase().replace(/[^a-z0-9_]/g, '_')}`.slice(0, 63);
  const slot = _match(env, 'INGEST_SLOT', _get(env, 'INGEST_SLOT') ?? defaultSlot, _SLOT, '[a-z0-9_]{1,63}');
  const tablesText = _get(env, 'INGEST_TABLES');
  const tables = tablesText === undefined ? null : tablesText.split(',').map((t) => _match(env, 'INGEST_TABLES', t.trim(), _TABLE, 'a comma-separated list of schema.table'));
  const stateSchema = _match(env, 'INGEST_STATE_SCHEMA', _get(env, 'INGEST_STATE_SCHEMA') ?? 'merklesync_ingest', _IDENT, 'a lower-case identifier');
  const debezium = kind === 'debezium' ? _debezium(env, name, tables, connection !== null) : null;
  const mongo = kind === 'mongodb' ? _mongo(env) : null;

  const keyFile = _required(env, 'INGEST_KEY_FILE');
  const kid = _match(env, 'INGEST_KEY_ID', _required(env, 'INGEST_KEY_ID'), /^[A-Za-z0-9._:-]{1,64}$/, 'a key id (1..64 of [A-Za-z0-9._:-])');
  const alg = _get(env, 'INGEST_COMMITMENT_ALGORITHM') ?? 'hmac-sha256';
  if (!isCommitmentAlgorithm(alg)) throw new ConfigError('INGEST_COMMITMENT_ALGORITHM', `must be one of ${COMMITMENT_ALGORITHMS.join(', ')}, got ${JSON.stringify(alg)}`);
  const commitmentKeyVersion = _int(env, 'INGEST_COMMITMENT_KEY_VERSION', 1, 1, 0xffffffff);

  const servers = (_get(env, 'INGEST_NATS_SERVERS') ?? '127.0.0.1:4222').split(',').map((s) => s.trim());
  if (servers.some((s) => s === '')) throw new ConfigError('INGEST_NATS_SERVERS', 'must be a comma-separated list of host:port');
  const nats: NatsConnectionConfig = { servers, name: `ingest-${name}`, requestTimeoutMs: _int(env, 'INGEST_NATS_TIMEOUT_MS', 5000, 100) };

  const streamName = _match(env, 'INGEST_CHANGES_STREAM', _get(env, 'INGEST_CHANGES_STREAM') ?? Streams.changes.name, /^[A-Za-z0-9_-]{1,64}$/, 'a stream name');
  const subjectPrefix = _match(env, 'INGEST_SUBJECT_PREFIX', _get(env, 'INGEST_SUBJECT_PREFIX') ?? SUBJECT_PREFIX, /^[A-Za-z0-9_-]{1,32}$/, 'one subject token');
  const subjectsText = _get(env, 'INGEST_CHANGES_SUBJECTS');
  const subjects = subjectsText === undefined ? [`${subjectPrefix}.changes.>`] : subjectsText.split(',').map((s) => s.trim());
  if (subjects.some((s) => !/^[^\s]+$/.test(s))) throw new ConfigError('INGEST_CHANGES_SUBJECTS', 'must be a comma-separated list of subjects');
  const maxAgeMs = _int(env, 'INGEST_CHANGES_MAX_AGE_MS', 0, 0);
  const duplicateWindowMs = _int(env, 'INGEST_DUPLICATE_WINDOW_MS', 120_000, 1);
  if (maxAgeMs > 0 && duplicateWindowMs > maxAgeMs) throw new ConfigError('INGEST_DUPLICATE_WINDOW_MS', 'must not exceed INGEST_CHANGES_MAX_AGE_MS');
  const replicas = _int(env, 'INGEST_STREAM_REPLICAS', 1, 1, 5);

  return {
    source: {
      kind,
      name,
      connection,
      publication,
      slot,
      tables,
      batch: { maxChanges: _int(env, 'INGEST_BATCH_MAX_CHANGES', 1000, 1, 10_000), maxBytes: _int(env, 'INGEST_BATCH_MAX_BYTES', 1 << 20, 1024) },
      maxUnackedBatches: _int(env, 'INGEST_MAX_UNACKED_BATCHES', 8, 1),
      stateSchema,
      debezium,
      mongo,
    },
    keys: { file: keyFile, kid, commitmentAlgorithm: alg, commitmentKeyVersion },
    nats,
    stream: { name: streamName, subjectPrefix, subjects, duplicateWindowMs, maxAgeMs, replicas },
    pipeline: {
      maxInFlightBatches: _int(env, 'INGEST_MAX_IN_FLIGHT_BATCHES', 4, 1, 1024),
      publishAttempts: _int(env, 'INGEST_PUBLISH_ATTEMPTS', 5, 1, 100),
    },
  };
}

/** A variable required by one INGEST_SOURCE_KIND only (deploy/ runs the pg kind). */
function _requiredForKind(env: Env, name: string, kind = 'debezium'): string {
  const v = _get(env, name);
  if (v === undefined) throw new ConfigError(name, `is required with INGEST_SOURCE_KIND=${kind}`);
  return v;
}

function _bool(env: Env, name: string, dflt: boolean): boolean {
  const v = _get(env, name);
  if (v === undefined) return dflt;
  if (v !== 'true' && v !== 'false') throw new ConfigError(name, `must be true or false, got ${JSON.stringify(v)}`);
  return v === 'true';
}

function _mongo(env: Env): MongoSettings {
  const url = _requiredForKind(env, 'INGEST_MONGO_URL', 'mongodb');
  if (!/^mongodb(\+srv)?:\/\//.test(url)) throw new ConfigError('INGEST_MONGO_URL', 'must be a mongodb:// or mongodb+srv:// connection string');
  const dbName = /^[^/\\. "$]{1,63}$/;
  const database = _match(env, 'INGEST_MONGO_DATABASE', _requiredForKind(env, 'INGEST_MONGO_DATABASE', 'mongodb'), dbName, 'a database name');
  const stateDatabase = _match(env, 'INGEST_MONGO_STATE_DATABASE', _get(env, 'INGEST_MONGO_STATE_DATABASE') ?? 'merklesync_state', dbName, 'a database name');
  if (stateDatabase === database) throw new ConfigError('INGEST_MONGO_STATE_DATABASE', 'must differ from INGEST_MONGO_DATABASE (its writes would be change events)');
  const text = _get(env, 'INGEST_MONGO_COLLECTIONS');
  const collections = text === undefined ? null : text.split(',').map((c) => _match(env, 'INGEST_MONGO_COLLECTIONS', c.trim(), /^[^$\s,]{1,120}$/, 'a comma-separated list of collections'));
  return { url, database, collections, stateDatabase, preImages: _bool(env, 'INGEST_MONGO_PRE_IMAGES', false), snapshot: _bool(env, 'INGEST_MONGO_SNAPSHOT', true) };
}

function _debezium(env: Env, name: string, tables: string[] | null, haveDb: boolean): DebeziumSettings {
  if (tables === null) throw new ConfigError('INGEST_TABLES', 'is required with INGEST_SOURCE_KIND=debezium (the tables whose topics to read)');
  const brokers = _requiredForKind(env, 'INGEST_KAFKA_BROKERS').split(',').map((s) => s.trim());
  if (brokers.some((b) => !/^[^\s:]+:[0-9]{1,5}$/.test(b))) throw new ConfigError('INGEST_KAFKA_BROKERS', 'must be a comma-separated list of host:port');
  const topicPrefix = _match(env, 'INGEST_KAFKA_TOPIC_PREFIX', _requiredForKind(env, 'INGEST_KAFKA_TOPIC_PREFIX'), /^[A-Za-z0-9._-]{1,200}$/, "the connector's topic.prefix");
  const groupId = _match(env, 'INGEST_KAFKA_GROUP_ID', _get(env, 'INGEST_KAFKA_GROUP_ID') ?? `merklesync-ingest-${name}`, /^[A-Za-z0-9._-]{1,200}$/, 'a consumer group id');
  const deadLetterTopic = _match(env, 'INGEST_KAFKA_DLQ_TOPIC', _get(env, 'INGEST_KAFKA_DLQ_TOPIC') ?? `${topicPrefix}.merklesync.dlq`, /^[A-Za-z0-9._-]{1,249}$/, 'a topic name');
  const decimalMode = _get(env, 'INGEST_DEBEZIUM_DECIMAL_MODE') ?? 'string';
  if (decimalMode !== 'precise' && decimalMode !== 'string' && decimalMode !== 'double') throw new ConfigError('INGEST_DEBEZIUM_DECIMAL_MODE', `must be precise, string or double, got ${JSON.stringify(decimalMode)}`);
  const binaryMode = _get(env, 'INGEST_DEBEZIUM_BINARY_MODE') ?? 'bytes';
  if (binaryMode !== 'bytes' && binaryMode !== 'base64' && binaryMode !== 'base64-url-safe' && binaryMode !== 'hex') {
    throw new ConfigError('INGEST_DEBEZIUM_BINARY_MODE', `must be bytes, base64, base64-url-safe or hex, got ${JSON.stringify(binaryMode)}`);
  }
  const catalogText = _get(env, 'INGEST_DEBEZIUM_CATALOG') ?? (haveDb ? 'true' : 'false');
  if (catalogText !== 'true' && catalogText !== 'false') throw new ConfigError('INGEST_DEBEZIUM_CATALOG', 'must be true or false');
  if (catalogText === 'true' && !haveDb) throw new ConfigError('INGEST_PG_URL', 'is required when INGEST_DEBEZIUM_CATALOG=true (column types are read from the source database)');
  return { brokers, topicPrefix, groupId, deadLetterTopic, decimalMode, binaryMode, catalog: catalogText === 'true' };
}
