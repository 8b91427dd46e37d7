// The prover's configuration: read from the environment ONCE at start-up (the only place that touches
// process.env), validated into a frozen typed object. Start-up fails fast with a message naming the variable.
import { ConfigError, envReader, type Env } from '@merklesync/config';
import { isHashSuiteName, type HashSuiteName } from '@merklesync/merkle';

export { ConfigError } from '@merklesync/config';

/** Validated configuration of one prover instance. */
export interface ProverConfig {
  readonly postgres: {
    /** Connection string of the store's database. */
    readonly url: string;
    /** Schema of the store (libs/store `storeConfig`). */
    readonly schema: string;
    /** Most pooled connections per instance. */
    readonly poolMax: number;
  };
  /** Hash suite of the table maps (must be the merkle service's). */
  readonly suite: HashSuiteName;
  /** Id of the global log in the store (`logs.log_id`, `checkpoints.log_id`). */
  readonly logId: string;
  readonly nats: {
    readonly servers: readonly string[];
    /** Client name shown by the NATS server. */
    readonly name: string;
  };
  /** Request subjects are `<subjectPrefix>.<kind>` (see src/bus/subjects.ts). */
  readonly subjectPrefix: string;
  /** Queue group shared by every instance, so each request goes to exactly one of them. */
  readonly queueGroup: string;
  /** Requests handled at once per instance; more wait in the subscription buffer. */
  readonly maxInFlight: number;
  /** Most keys one `map.multi` request may ask for. */
  readonly maxMultiKeys: number;
  /**
   * How long the current table roots and the latest checkpoint are reused, in ms (0: read per request).
   * Proofs lag the newest state by at most this much.
   */
  readonly headTtlMs: number;
  /** Bounds of the map node cache (libs/store CachedMapNodeSource). */
  readonly cache: { readonly maxEntries: number; readonly maxBytes: number };
}

/** The environment variables read, with their defaults (documented in apps/prover/README.md). */
export const PROVER_ENV = {
  PROVER_DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/merklesync',
  PROVER_DB_SCHEMA: 'merklesync',
  PROVER_DB_POOL_MAX: '10',
  PROVER_HASH_SUITE: 'sha256',
  PROVER_LOG_ID: 'global',
  PROVER_NATS_SERVERS: '127.0.0.1:4222',
  PROVER_NATS_NAME: 'prover',
  PROVER_SUBJECT_PREFIX: 'ms.prover',
  PROVER_QUEUE_GROUP: 'prover',
  PROVER_MAX_IN_FLIGHT: '64',
  PROVER_MAX_MULTI_KEYS: '1000',
  PROVER_HEAD_TTL_MS: '100',
  PROVER_CACHE_MAX_ENTRIES: '500000',
  PROVER_CACHE_MAX_BYTES: String(256 << 20),
} as const;

// Subject tokens: no wildcards, whitespace or empty tokens (a prefix like `ms.prover` is two tokens).
const _SUBJECT = /^[A-Za-z0-9_~-]+(\.[A-Za-z0-9_~-]+)*$/;
const _QUEUE = /^[A-Za-z0-9_.-]{1,255}$/;
const _SCHEMA = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Builds the validated config from an environment record (defaults in {@link PROVER_ENV}).
 * @throws ConfigError naming the first bad variable.
 * @example const config = parseProverConfig({ PROVER_SUBJECT_PREFIX: 'ms.prover' })
 */
export function parseProverConfig(env: Env): ProverConfig {
  const r = envReader(env, PROVER_ENV);
  const url = r.str('PROVER_DATABASE_URL');
  if (!/^postgres(ql)?:\/\//.test(url)) throw new ConfigError('PROVER_DATABASE_URL', 'must be a postgres:// URL');
  const suite = r.str('PROVER_HASH_SUITE');
  if (!isHashSuiteName(suite)) throw new ConfigError('PROVER_HASH_SUITE', `must be sha256 or blake3, got ${JSON.stringify(suite)}`);
  const logId = r.str('PROVER_LOG_ID');
  if (logId.length > 200) throw new ConfigError('PROVER_LOG_ID', 'must be at most 200 characters');
  const servers = r.str('PROVER_NATS_SERVERS')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (servers.length === 0) throw new ConfigError('PROVER_NATS_SERVERS', 'must list at least one server');
  return Object.freeze({
    postgres: Object.freeze({ url, schema: r.match('PROVER_DB_SCHEMA', _SCHEMA), poolMax: r.int('PROVER_DB_POOL_MAX', 1, 1000) }),
    suite,
    logId,
    nats: Object.freeze({ servers: Object.freeze(servers), name: r.match('PROVER_NATS_NAME', /^[A-Za-z0-9_.-]{1,100}$/) }),
    subjectPrefix: r.match('PROVER_SUBJECT_PREFIX', _SUBJECT),
    queueGroup: r.match('PROVER_QUEUE_GROUP', _QUEUE),
    maxInFlight: r.int('PROVER_MAX_IN_FLIGHT', 1, 100_000),
    maxMultiKeys: r.int('PROVER_MAX_MULTI_KEYS', 1, 1 << 20),
    headTtlMs: r.int('PROVER_HEAD_TTL_MS', 0, 60_000),
    cache: Object.freeze({ maxEntries: r.int('PROVER_CACHE_MAX_ENTRIES', 1, 1e9), maxBytes: r.int('PROVER_CACHE_MAX_BYTES', 1024, Number.MAX_SAFE_INTEGER) }),
  });
}

/**
 * The config of this process, from `process.env` (called once, by main.ts).
 * @throws ConfigError naming the bad variable.
 * @example const config = loadProverConfig()
 */
export function loadProverConfig(): ProverConfig {
  return parseProverConfig(process.env);
}
