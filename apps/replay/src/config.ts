// The replay service's configuration: read from the environment ONCE at start-up (main.ts passes process.env
// here), validated into a frozen typed object. Start-up fails fast with a message naming the bad variable.
import { ConfigError, envReader, type Env } from '@merklesync/config';
import { isCommitmentAlgorithm, type CommitmentAlgorithm } from '@merklesync/crypto';
import { isHashSuiteName, type HashSuiteName } from '@merklesync/merkle';

export { ConfigError } from '@merklesync/config';

export interface ReplayConfig {
  /** Admin connection (postgres database of the verification server): workers create their databases through it. */
  readonly verificationUrl: string;
  /** Worker databases are `<prefix>_<instance>_w<i>` (instance sanitised, see WorkerPool), created fresh at start-up and dropped at shutdown. */
  readonly dbPrefix: string;
  readonly instanceId: string;
  readonly workers: number;
  /** Statement timeout of a replayed statement, ms. */
  readonly statementTimeoutMs: number;
  readonly results: { readonly url: string; readonly schema: string };
  readonly keys: { readonly file: string; readonly kid: string; readonly commitmentKeyVersion: number; readonly commitmentAlgorithm: CommitmentAlgorithm };
  readonly source: string;
  readonly suite: HashSuiteName;
  readonly nats: { readonly servers: readonly string[]; readonly name: string };
  readonly commitments: { readonly stream: string; readonly subject: string; readonly consumer: string; readonly replicas: number };
  readonly resultsStream: { readonly stream: string; readonly subject: string };
  readonly deadLetter: { readonly stream: string; readonly subject: string };
}

export const REPLAY_ENV = {
  REPLAY_VERIFICATION_URL: 'postgres://postgres@127.0.0.1:5432/postgres',
  REPLAY_DB_PREFIX: 'ms_replay',
  REPLAY_INSTANCE_ID: 'r0',
  REPLAY_WORKERS: '4',
  REPLAY_STATEMENT_TIMEOUT_MS: '10000',
  REPLAY_RESULTS_DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/merklesync',
  REPLAY_RESULTS_SCHEMA: 'merklesync_replay',
  REPLAY_KEY_FILE: '',
  REPLAY_KEY_ID: '',
  REPLAY_COMMITMENT_KEY_VERSION: '1',
  REPLAY_COMMITMENT_ALGORITHM: 'hmac-sha256',
  REPLAY_SOURCE_ID: 'pg-main',
  REPLAY_HASH_SUITE: 'sha256',
  REPLAY_NATS_SERVERS: '127.0.0.1:4222',
  REPLAY_NATS_NAME: 'replay',
  REPLAY_COMMITMENTS_STREAM: 'MS_PROXY_COMMITMENTS',
  REPLAY_COMMITMENTS_SUBJECT: 'ms.proxy.commitments',
  REPLAY_CONSUMER: 'replay',
  REPLAY_STREAM_REPLICAS: '1',
  REPLAY_RESULTS_STREAM: 'MS_REPLAY_RESULTS',
  REPLAY_RESULTS_SUBJECT: 'ms.replay.results',
  REPLAY_DLQ_STREAM: 'MS_DLQ',
  REPLAY_DLQ_SUBJECT: 'ms.dlq.MS_PROXY_COMMITMENTS',
} as const;

const _SUBJECT = /^[A-Za-z0-9_~-]+(\.[A-Za-z0-9_~-]+)*$/;
const _STREAM = /^[A-Za-z0-9_-]{1,200}$/;

/**
 * @throws ConfigError naming the first bad variable.
 * @example parseReplayConfig(process.env)
 */
export function parseReplayConfig(env: Env): ReplayConfig {
  const r = envReader(env, REPLAY_ENV);
  const url = (name: 'REPLAY_VERIFICATION_URL' | 'REPLAY_RESULTS_DATABASE_URL'): string => {
    const v = r.str(name);
    if (!/^postgres(ql)?:\/\//.test(v)) throw new ConfigError(name, 'must be a postgres:// URL');
    return v;
  };
  const algorithm = r.str('REPLAY_COMMITMENT_ALGORITHM');
  if (!isCommitmentAlgorithm(algorithm)) throw new ConfigError('REPLAY_COMMITMENT_ALGORITHM', 'must be hmac-sha256 or blake3');
  const suite = r.str('REPLAY_HASH_SUITE');
  if (!isHashSuiteName(suite)) throw new ConfigError('REPLAY_HASH_SUITE', 'must be sha256 or blake3');
  const file = r.str('REPLAY_KEY_FILE');
  if (file === '') throw new ConfigError('REPLAY_KEY_FILE', 'is required');
  const servers = r.str('REPLAY_NATS_SERVERS').split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (servers.length === 0) throw new ConfigError('REPLAY_NATS_SERVERS', 'must list at least one server');
  return Object.freeze({
    verificationUrl: url('REPLAY_VERIFICATION_URL'),
    dbPrefix: r.match('REPLAY_DB_PREFIX', /^[a-z][a-z0-9_]{0,30}$/),
    instanceId: r.match('REPLAY_INSTANCE_ID', /^[a-z0-9][a-z0-9_.-]{0,252}$/),
    workers: r.int('REPLAY_WORKERS', 1, 64),
    statementTimeoutMs: r.int('REPLAY_STATEMENT_TIMEOUT_MS', 1, 3_600_000),
    results: Object.freeze({ url: url('REPLAY_RESULTS_DATABASE_URL'), schema: r.match('REPLAY_RESULTS_SCHEMA', /^[a-z_][a-z0-9_]{0,62}$/) }),
    keys: Object.freeze({
      file,
      kid: r.match('REPLAY_KEY_ID', /^[A-Za-z0-9._:-]{1,64}$/),
      commitmentKeyVersion: r.int('REPLAY_COMMITMENT_KEY_VERSION', 1, 2 ** 32 - 1),
      commitmentAlgorithm: algorithm,
    }),
    source: r.match('REPLAY_SOURCE_ID', /^[A-Za-z0-9_-]{1,64}$/),
    suite,
    nats: Object.freeze({ servers: Object.freeze(servers), name: r.match('REPLAY_NATS_NAME', /^[A-Za-z0-9_.-]{1,100}$/) }),
    commitments: Object.freeze({
      stream: r.match('REPLAY_COMMITMENTS_STREAM', _STREAM),
      subject: r.match('REPLAY_COMMITMENTS_SUBJECT', _SUBJECT),
      consumer: r.match('REPLAY_CONSUMER', /^[A-Za-z0-9_-]{1,100}$/),
      replicas: r.int('REPLAY_STREAM_REPLICAS', 1, 5),
    }),
    resultsStream: Object.freeze({ stream: r.match('REPLAY_RESULTS_STREAM', _STREAM), subject: r.match('REPLAY_RESULTS_SUBJECT', _SUBJECT) }),
    deadLetter: Object.freeze({ stream: r.match('REPLAY_DLQ_STREAM', _STREAM), subject: r.match('REPLAY_DLQ_SUBJECT', _SUBJECT) }),
  });
}
