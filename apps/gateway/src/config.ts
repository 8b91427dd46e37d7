// The gateway's configuration: read from the environment ONCE at start-up (the only place that touches
// process.env), validated into a frozen typed object. Start-up fails fast with a message naming the variable.
import { ConfigError, envReader, type Env } from '@merklesync/config';
import { isHashSuiteName, type HashSuiteName } from '@merklesync/merkle';

export { ConfigError } from '@merklesync/config';

/** Validated configuration of one gateway instance. */
export interface GatewayConfig {
  /** REST (HTTP/1.1, Fastify) listen address. */
  readonly http: { readonly host: string; readonly port: number };
  /** gRPC / Connect / gRPC-Web (HTTP/2 cleartext) listen address. */
  readonly grpc: { readonly host: string; readonly port: number };
  readonly postgres: { readonly url: string; readonly schema: string; readonly poolMax: number };
  /** Hash suite of the maps and the state tree (must be the merkle service's). */
  readonly suite: HashSuiteName;
  /** Id of the global log in the store. */
  readonly logId: string;
  readonly nats: { readonly servers: readonly string[]; readonly name: string };
  /** The prover's subject prefix (`PROVER_SUBJECT_PREFIX` of the prover). */
  readonly proverPrefix: string;
  /** Timeout of one prover request, ms. */
  readonly proverTimeoutMs: number;
  /** How often WatchCheckpoints looks for new checkpoints, ms. */
  readonly watchPollMs: number;
  /** Most changed keys one DiffTrees answer carries (more: RESOURCE_EXHAUSTED, use SyncRequest). */
  readonly maxDiffKeys: number;
  /** Blocks per SyncRequest message (one multiproof each). */
  readonly syncPageSize: number;
  /** Bounds of the map node cache. */
  readonly cache: { readonly maxEntries: number; readonly maxBytes: number };
}

/** The environment variables read, with their defaults (documented in apps/gateway/README.md). */
export const GATEWAY_ENV = {
  GATEWAY_HTTP_HOST: '0.0.0.0',
  GATEWAY_HTTP_PORT: '8080',
  GATEWAY_GRPC_HOST: '0.0.0.0',
  GATEWAY_GRPC_PORT: '8081',
  GATEWAY_DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/merklesync',
  GATEWAY_DB_SCHEMA: 'merklesync',
  GATEWAY_DB_POOL_MAX: '10',
  GATEWAY_HASH_SUITE: 'sha256',
  GATEWAY_LOG_ID: 'global',
  GATEWAY_NATS_SERVERS: '127.0.0.1:4222',
  GATEWAY_NATS_NAME: 'gateway',
  GATEWAY_PROVER_PREFIX: 'ms.prover',
  GATEWAY_PROVER_TIMEOUT_MS: '5000',
  GATEWAY_WATCH_POLL_MS: '500',
  GATEWAY_MAX_DIFF_KEYS: '10000',
  GATEWAY_SYNC_PAGE_SIZE: '500',
  GATEWAY_CACHE_MAX_ENTRIES: '200000',
  GATEWAY_CACHE_MAX_BYTES: String(128 << 20),
} as const;

const _SUBJECT = /^[A-Za-z0-9_~-]+(\.[A-Za-z0-9_~-]+)*$/;
const _SCHEMA = /^[a-z_][a-z0-9_]{0,62}$/;
const _HOST = /^[A-Za-z0-9.:_-]{1,255}$/;

/**
 * Builds the validated config from an environment record (defaults in {@link GATEWAY_ENV}).
 * @throws ConfigError naming the first bad variable.
 * @example const config = parseGatewayConfig({ GATEWAY_HTTP_PORT: '0' })
 */
export function parseGatewayConfig(env: Env): GatewayConfig {
  const r = envReader(env, GATEWAY_ENV);
  const url = r.str('GATEWAY_DATABASE_URL');
  if (!/^postgres(ql)?:\/\//.test(url)) throw new ConfigError('GATEWAY_DATABASE_URL', 'must be a postgres:// URL');
  const suite = r.str('GATEWAY_HASH_SUITE');
  if (!isHashSuiteName(suite)) throw new ConfigError('GATEWAY_HASH_SUITE', `must be sha256 or blake3, got ${JSON.stringify(suite)}`);
  const logId = r.str('GATEWAY_LOG_ID');
  if (logId.length > 200) throw new ConfigError('GATEWAY_LOG_ID', 'must be at most 200 characters');
  const servers = r.str('GATEWAY_NATS_SERVERS')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (servers.length === 0) throw new ConfigError('GATEWAY_NATS_SERVERS', 'must list at least one server');
  const http = { host: r.match('GATEWAY_HTTP_HOST', _HOST), port: r.int('GATEWAY_HTTP_PORT', 0, 65535) };
  const grpc = { host: r.match('GATEWAY_GRPC_HOST', _HOST), port: r.int('GATEWAY_GRPC_PORT', 0, 65535) };
  if (http.port !== 0 && http.port === grpc.port) throw new ConfigError('GATEWAY_GRPC_PORT', 'must differ from GATEWAY_HTTP_PORT');
  return Object.freeze({
    http: Object.freeze(http),
    grpc: Object.freeze(grpc),
    postgres: Object.freeze({ url, schema: r.match('GATEWAY_DB_SCHEMA', _SCHEMA), poolMax: r.int('GATEWAY_DB_POOL_MAX', 1, 1000) }),
    suite,
    logId,
    nats: Object.freeze({ servers: Object.freeze(servers), name: r.match('GATEWAY_NATS_NAME', /^[A-Za-z0-9_.-]{1,100}$/) }),
    proverPrefix: r.match('GATEWAY_PROVER_PREFIX', _SUBJECT),
    proverTimeoutMs: r.int('GATEWAY_PROVER_TIMEOUT_MS', 1, 600_000),
    watchPollMs: r.int('GATEWAY_WATCH_POLL_MS', 10, 600_000),
    maxDiffKeys: r.int('GATEWAY_MAX_DIFF_KEYS', 1, 1 << 20),
    syncPageSize: r.int('GATEWAY_SYNC_PAGE_SIZE', 1, 10_000),
    cache: Object.freeze({ maxEntries: r.int('GATEWAY_CACHE_MAX_ENTRIES', 1, 1e9), maxBytes: r.int('GATEWAY_CACHE_MAX_BYTES', 1024, Number.MAX_SAFE_INTEGER) }),
  });
}

/**
 * The config of this process, from `process.env` (called once, by main.ts).
 * @throws ConfigError naming the bad variable.
 * @example const config = loadGatewayConfig()
 */
export function loadGatewayConfig(): GatewayConfig {
  return parseGatewayConfig(process.env);
}
