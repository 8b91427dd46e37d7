// The merkle service's configuration: read from the environment ONCE (the only place that touches
// process.env is main.ts, which passes it here), validated into a typed, frozen object. Start-up fails fast
// with a message naming the bad variable. The README's "Configuration" table lists every variable.
import type { NatsConnectionConfig } from '@merklesync/messaging';
import { isHashSuiteName, type HashSuiteName } from '@merklesync/merkle';
import { MerkleServiceError, MerkleServiceErrorCode } from './errors.ts';

/** Subjects and streams the service reads and writes (prefix and names configurable so tests can isolate). */
export interface MerkleBusConfig {
  /** First token of every subject (default `ms`, the protocol's); tests use a random one. */
  readonly subjectPrefix: string;
  /** Stream holding the ChangeBatch messages (provisioned by ingest; the merkle service only adds its consumer). */
  readonly changesStream: string;
  /** Consumer filter subject (default `<prefix>.changes.>`). */
  readonly changesFilter: string;
  /** Durable consumer name (default `merkle`). Also the key of the applied stream sequence in the store. */
  readonly consumer: string;
  /**
   * Deliveries before a message that keeps failing (database down...) is dead-lettered; -1 (default) =
   * never: skipping a valid change would leave a hole in the state, so the pipeline waits for the store.
   */
  readonly maxDeliver: number;
  /** Messages pulled per request. */
  readonly pullBatch: number;
  /**
   * Messages handed out and not yet acknowledged at once (the consumer's max_ack_pending and the handler
   * concurrency). Above 1, consecutive messages are persisted together (group commit, README "Group
   * commit"); 1 = one transaction per message, in strict server order. Must be 1 when maxDeliver > 0.
   */
  readonly maxInFlight: number;
  /** A group closes once it holds this many changes (it always takes at least one message). */
  readonly groupMaxChanges: number;
  /** Stream of RootUpdate events (`<prefix>.roots.>`), provisioned at start-up. */
  readonly rootsStream: string;
  /** Stream of CheckpointEvent events (`<prefix>.checkpoints`), provisioned at start-up. */
  readonly checkpointsStream: string;
  /** Dead-letter stream (`<prefix>.dlq.>`), provisioned at start-up. */
  readonly deadLetterStream: string;
  /** JetStream replicas of the streams merkle provisions (1 on a single server; 3 on a 3-node cluster). */
  readonly streamReplicas: number;
}

/** Checkpoint policy and identity. */
export interface MerkleCheckpointConfig {
  /** Id of the global log in the store (default `global`). */
  readonly logId: string;
  /** Checkpoint origin line; default: the signer key's name. */
  readonly origin: string | undefined;
  /** File holding the log's signer key string (`PRIVATE+KEY+…`, as `merklesync checkpoint keygen` writes it). */
  readonly signerKeyFile: string;
  /** Sign a checkpoint once this many changes were applied since the last one... */
  readonly everyChanges: number;
  /** ...or once this many ms passed since the last one with changes pending, whichever comes first. */
  readonly everyMs: number;
}

/** The whole, validated configuration. */
export interface MerkleConfig {
  readonly database: {
    readonly url: string;
    readonly schema: string;
    readonly poolMax: number;
    /**
     * Pool connections that write a group's map nodes in parallel, committed before the group's transaction
     * (content-addressed, so early and orphaned copies are harmless); 0 (default) = inside the transaction.
     * Measured no gain on the 2-core test machine (the writes compete for the same CPUs); README "Measured".
     */
    readonly nodeWriters: number;
  };
  readonly nats: NatsConnectionConfig;
  readonly bus: MerkleBusConfig;
  readonly hashSuite: HashSuiteName;
  readonly checkpoint: MerkleCheckpointConfig;
  /** Prune the in-memory node store after this many applied changes (keeps memory bounded). */
  readonly pruneEveryChanges: number;
  /**
   * Count memory outside the JavaScript heap (Buffers, typed arrays) toward V8's heap limit instead of starting a
   * full collection whenever it grows by some tens of MB (README "Full collections started by external memory"):
   * less CPU, more resident memory.
   */
  readonly gcCountExternal: boolean;
}

type _Env = Readonly<Record<string, string | undefined>>;

function _bad(name: string, why: string): never {
  throw new MerkleServiceError(MerkleServiceErrorCode.InvalidConfig, `${name}: ${why}`);
}

function _str(env: _Env, name: string, fallback?: string): string {
  const v = env[name]?.trim();
  if (v === undefined || v === '') {
    if (fallback === undefined) _bad(name, 'is required');
    return fallback;
  }
  return v;
}

function _int(env: _Env, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (!/^-?\d+$/.test(raw)) _bad(name, `must be an integer, got ${JSON.stringify(raw)}`);
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min || n > max) _bad(name, `must be between ${min} and ${max}, got ${raw}`);
  return n;
}

function _bool(env: _Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  return _bad(name, `must be true or false, got ${JSON.stringify(env[name])}`);
}

function _maxInFlight(env: _Env, maxDeliver: number): number {
  // 64 × ingest's 500-change messages lets a backlog form groups up to the checkpoint count (README "Measured").
  const n = _int(env, 'MERKLE_MAX_IN_FLIGHT', maxDeliver > 0 ? 1 : 64, 1, 256);
  // A valid message dead-lettered after max-deliver leaves a permanent gap in the stream; group commit waits
  // for gaps to close (README "Group commit"), so it needs maxDeliver -1.
  if (n > 1 && maxDeliver > 0) _bad('MERKLE_MAX_IN_FLIGHT', 'must be 1 when MERKLE_MAX_DELIVER is set (a dead-lettered valid message would stall group commit)');
  return n;
}

function _maxDeliver(env: _Env): number {
  const n = _int(env, 'MERKLE_MAX_DELIVER', -1, -1, 1000);
  if (n === 0 || n === 1) _bad('MERKLE_MAX_DELIVER', 'must be -1 (unlimited) or at least 2');
  return n;
}

const _STREAM = /^[A-Za-z0-9_-]{1,64}$/;
const _TOKEN = /^[A-Za-z0-9_-]{1,64}$/;
const _SUBJECT = /^[^\s]+$/;

function _stream(env: _Env, name: string, fallback: string): string {
  const v = _str(env, name, fallback);
  if (!_STREAM.test(v)) _bad(name, `must match ${String(_STREAM)}, got ${JSON.stringify(v)}`);
  return v;
}

/**
 * Reads and validates the configuration from an environment map.
 * @throws MerkleServiceError(INVALID_CONFIG) naming the first bad variable.
 * @example const config = loadConfig(process.env)   // in main.ts only
 */
export function loadConfig(env: _Env): MerkleConfig {
  const url = _str(env, 'MERKLE_DATABASE_URL');
  if (!/^postgres(ql)?:\/\//.test(url)) _bad('MERKLE_DATABASE_URL', 'must be a postgres:// URL');
  const schema = _str(env, 'MERKLE_DB_SCHEMA', 'merklesync');
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) _bad('MERKLE_DB_SCHEMA', 'must be a lower-case identifier');
  const servers = _str(env, 'MERKLE_NATS_SERVERS', '127.0.0.1:4222')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (servers.length === 0) _bad('MERKLE_NATS_SERVERS', 'must list at least one server');
  const prefix = _str(env, 'MERKLE_SUBJECT_PREFIX', 'ms');
  if (!_TOKEN.test(prefix)) _bad('MERKLE_SUBJECT_PREFIX', `must be one subject token (${String(_TOKEN)})`);
  const filter = _str(env, 'MERKLE_CHANGES_FILTER', `${prefix}.changes.>`);
  if (!_SUBJECT.test(filter) || !filter.startsWith(`${prefix}.changes.`)) _bad('MERKLE_CHANGES_FILTER', `must be a subject under ${prefix}.changes.`);
  const consumer = _str(env, 'MERKLE_CONSUMER', 'merkle');
  if (!_TOKEN.test(consumer)) _bad('MERKLE_CONSUMER', `must match ${String(_TOKEN)}`);
  const suite = _str(env, 'MERKLE_HASH_SUITE', 'sha256');
  if (!isHashSuiteName(suite)) _bad('MERKLE_HASH_SUITE', `must be sha256 or blake3, got ${JSON.stringify(suite)}`);
  const logId = _str(env, 'MERKLE_LOG_ID', 'global');
  const origin = env['MERKLE_LOG_ORIGIN']?.trim() || undefined;
  const maxDeliver = _maxDeliver(env);
  const poolMax = _int(env, 'MERKLE_DB_POOL_MAX', 4, 1, 100);
  if (origin !== undefined && /[\s+]/u.test(origin)) _bad('MERKLE_LOG_ORIGIN', 'must not contain spaces or +');
  return Object.freeze({
    database: Object.freeze({ url, schema, poolMax, nodeWriters: _int(env, 'MERKLE_NODE_WRITERS', Math.min(1, poolMax - 1), 0, poolMax - 1) }),
    nats: Object.freeze({ servers, name: _str(env, 'MERKLE_NATS_NAME', 'merkle') }),
    bus: Object.freeze({
      subjectPrefix: prefix,
      changesStream: _stream(env, 'MERKLE_CHANGES_STREAM', 'MS_CHANGES'),
      changesFilter: filter,
      consumer,
      maxDeliver,
      pullBatch: _int(env, 'MERKLE_PULL_BATCH', 64, 1, 1000),
      maxInFlight: _maxInFlight(env, maxDeliver),
      groupMaxChanges: _int(env, 'MERKLE_GROUP_MAX_CHANGES', 20_000, 1),
      rootsStream: _stream(env, 'MERKLE_ROOTS_STREAM', 'MS_ROOTS'),
      checkpointsStream: _stream(env, 'MERKLE_CHECKPOINTS_STREAM', 'MS_CHECKPOINTS'),
      deadLetterStream: _stream(env, 'MERKLE_DLQ_STREAM', 'MS_DLQ'),
      streamReplicas: _int(env, 'MERKLE_STREAM_REPLICAS', 1, 1, 5),
    }),
    hashSuite: suite,
    checkpoint: Object.freeze({
      logId,
      origin,
      signerKeyFile: _str(env, 'MERKLE_CHECKPOINT_KEY_FILE'),
      everyChanges: _int(env, 'MERKLE_CHECKPOINT_EVERY_CHANGES', 10_000, 1),
      everyMs: _int(env, 'MERKLE_CHECKPOINT_EVERY_MS', 5_000, 10),
    }),
    pruneEveryChanges: _int(env, 'MERKLE_PRUNE_EVERY_CHANGES', 200_000, 1_000),
    gcCountExternal: _bool(env, 'MERKLE_GC_COUNT_EXTERNAL', true),
  });
}
