// The proxy's configuration: read from the environment ONCE at start-up (main.ts passes process.env here),
// validated into a frozen typed object. Start-up fails fast with a message naming the bad variable.
import { ConfigError, envReader, type Env } from '@merklesync/config';
import { isCommitmentAlgorithm, type CommitmentAlgorithm } from '@merklesync/crypto';
import { isHashSuiteName, type HashSuiteName } from '@merklesync/merkle';

export { ConfigError } from '@merklesync/config';

/** Validated configuration of one proxy instance. */
export interface ProxyConfig {
  readonly listen: { readonly host: string; readonly port: number };
  readonly backend: { readonly host: string; readonly port: number };
  /** Largest protocol message accepted from a client or the backend. */
  readonly maxMessageBytes: number;
  /** Client connections served at once; more are refused with an ErrorResponse (53300). */
  readonly maxConnections: number;
  /** Off: a pure pass-through proxy (analysis still logs warnings), no records. */
  readonly capture: boolean;
  readonly captureMaxRows: number;
  readonly keys: {
    readonly file: string;
    readonly kid: string;
    readonly commitmentKeyVersion: number;
    readonly commitmentAlgorithm: CommitmentAlgorithm;
  };
  /** Source id of the backend database (ingest's INGEST_SOURCE_ID for the same database, for the cross-check). */
  readonly source: string;
  readonly suite: HashSuiteName;
  /** Prefix of transaction ids, unique per instance (pod name). */
  readonly instanceId: string;
  readonly nats: { readonly servers: readonly string[]; readonly name: string };
  readonly stream: { readonly name: string; readonly subject: string; readonly replicas: number };
  /** Port of the plain-text metrics endpoint (GET /metrics); 0 = none. */
  readonly metricsPort: number;
}

/** The environment variables read, with their defaults (documented in apps/proxy/README.md). */
export const PROXY_ENV = {
  PROXY_LISTEN_HOST: '127.0.0.1',
  PROXY_LISTEN_PORT: '6432',
  PROXY_BACKEND_HOST: '127.0.0.1',
  PROXY_BACKEND_PORT: '5432',
  PROXY_MAX_MESSAGE_BYTES: String(64 << 20),
  PROXY_MAX_CONNECTIONS: '1000',
  PROXY_CAPTURE: 'on',
  PROXY_CAPTURE_MAX_ROWS: '10000',
  PROXY_KEY_FILE: '',
  PROXY_KEY_ID: '',
  PROXY_COMMITMENT_KEY_VERSION: '1',
  PROXY_COMMITMENT_ALGORITHM: 'hmac-sha256',
  PROXY_SOURCE_ID: 'pg-main',
  PROXY_HASH_SUITE: 'sha256',
  PROXY_INSTANCE_ID: 'proxy',
  PROXY_NATS_SERVERS: '127.0.0.1:4222',
  PROXY_NATS_NAME: 'proxy',
  PROXY_COMMITMENTS_STREAM: 'MS_PROXY_COMMITMENTS',
  PROXY_COMMITMENTS_SUBJECT: 'ms.proxy.commitments',
  PROXY_STREAM_REPLICAS: '1',
  PROXY_METRICS_PORT: '0',
} as const;

const _SUBJECT = /^[A-Za-z0-9_~-]+(\.[A-Za-z0-9_~-]+)*$/;
const _NAME = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Builds the validated config from an environment record (defaults in {@link PROXY_ENV}).
 * @throws ConfigError naming the first bad variable.
 * @example const config = parseProxyConfig(process.env)
 */
export function parseProxyConfig(env: Env): ProxyConfig {
  const r = envReader(env, PROXY_ENV);
  const capture = r.str('PROXY_CAPTURE');
  if (capture !== 'on' && capture !== 'off') throw new ConfigError('PROXY_CAPTURE', 'must be on or off');
  const algorithm = r.str('PROXY_COMMITMENT_ALGORITHM');
  if (!isCommitmentAlgorithm(algorithm)) throw new ConfigError('PROXY_COMMITMENT_ALGORITHM', 'must be hmac-sha256 or blake3');
  const suite = r.str('PROXY_HASH_SUITE');
  if (!isHashSuiteName(suite)) throw new ConfigError('PROXY_HASH_SUITE', 'must be sha256 or blake3');
  const file = r.str('PROXY_KEY_FILE');
  const kid = r.str('PROXY_KEY_ID');
  if (capture === 'on' && file === '') throw new ConfigError('PROXY_KEY_FILE', 'is required when PROXY_CAPTURE=on');
  if (capture === 'on' && !/^[A-Za-z0-9._:-]{1,64}$/.test(kid)) throw new ConfigError('PROXY_KEY_ID', 'must be a key id of 1..64 characters [A-Za-z0-9._:-]');
  const servers = r.str('PROXY_NATS_SERVERS').split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (servers.length === 0) throw new ConfigError('PROXY_NATS_SERVERS', 'must list at least one server');
  return Object.freeze({
    listen: Object.freeze({ host: r.str('PROXY_LISTEN_HOST'), port: r.int('PROXY_LISTEN_PORT', 0, 65535) }),
    backend: Object.freeze({ host: r.str('PROXY_BACKEND_HOST'), port: r.int('PROXY_BACKEND_PORT', 1, 65535) }),
    maxMessageBytes: r.int('PROXY_MAX_MESSAGE_BYTES', 1024, 1 << 30),
    maxConnections: r.int('PROXY_MAX_CONNECTIONS', 1, 100_000),
    capture: capture === 'on',
    captureMaxRows: r.int('PROXY_CAPTURE_MAX_ROWS', 1, 1_000_000),
    keys: Object.freeze({ file, kid, commitmentKeyVersion: r.int('PROXY_COMMITMENT_KEY_VERSION', 1, 2 ** 32 - 1), commitmentAlgorithm: algorithm }),
    source: r.match('PROXY_SOURCE_ID', _NAME),
    suite,
    instanceId: r.match('PROXY_INSTANCE_ID', /^[A-Za-z0-9_.-]{1,100}$/),
    nats: Object.freeze({ servers: Object.freeze(servers), name: r.match('PROXY_NATS_NAME', /^[A-Za-z0-9_.-]{1,100}$/) }),
    stream: Object.freeze({
      name: r.match('PROXY_COMMITMENTS_STREAM', /^[A-Za-z0-9_-]{1,200}$/),
      subject: r.match('PROXY_COMMITMENTS_SUBJECT', _SUBJECT),
      replicas: r.int('PROXY_STREAM_REPLICAS', 1, 5),
    }),
    metricsPort: r.int('PROXY_METRICS_PORT', 0, 65535),
  });
}
