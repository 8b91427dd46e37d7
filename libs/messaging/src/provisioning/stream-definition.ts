// What a stream should look like, in milliseconds and plain words, and its translation to the JetStream
// API's config (nanoseconds, snake_case). Kept apart from the API calls so it can be unit-tested.
import { DiscardPolicy, RetentionPolicy, StorageType, type StreamConfig } from '@nats-io/jetstream';
import type { StreamSpec } from '@merklesync/protocol';
import { _checkInt, _checkName, _checkSubject, _fail, _nanos } from '../config.ts';

/** A stream's wanted configuration. Every field but name and subjects has a default. */
export interface StreamDefinition {
  readonly name: string;
  readonly subjects: readonly string[];
  readonly description?: string;
  /** `file` (default) survives restarts; `memory` does not. Cannot change after creation. */
  readonly storage?: 'file' | 'memory';
  /** `limits` (default): kept until a limit removes them, so several consumers and replays can read them. Cannot change after creation. */
  readonly retention?: 'limits' | 'interest' | 'workqueue';
  /** Oldest message age kept, ms; 0 = unlimited (default). */
  readonly maxAgeMs?: number;
  /** Total bytes kept; -1 = unlimited (default). */
  readonly maxBytes?: number;
  /** Messages kept; -1 = unlimited (default). */
  readonly maxMsgs?: number;
  /** Largest message accepted, bytes (default 1 MiB, NATS' default max_payload and the protocol's event limit). */
  readonly maxMsgSize?: number;
  /** Window in which a repeated `Nats-Msg-Id` is recognised as a duplicate, ms (default 2 minutes). */
  readonly duplicateWindowMs?: number;
  /** `old` (default): drop the oldest when a limit is hit; `new`: refuse new messages. */
  readonly discard?: 'old' | 'new';
  /** Replicas (1..5, default 1; more needs a clustered JetStream). */
  readonly replicas?: number;
}

/** The JetStream config fields this library manages; others keep the server's defaults. */
export type _ManagedStreamConfig = Pick<
  StreamConfig,
  'name' | 'subjects' | 'description' | 'storage' | 'retention' | 'max_age' | 'max_bytes' | 'max_msgs' | 'max_msg_size' | 'duplicate_window' | 'discard' | 'num_replicas'
>;

/** Default limits of {@link StreamDefinition}. */
export const StreamDefaults = {
  maxMsgSize: 1024 * 1024,
  duplicateWindowMs: 120_000,
} as const;

/**
 * Checks a definition and returns the JetStream config it stands for.
 * @throws MessagingError(INVALID_CONFIG) naming the bad field.
 * @example streamConfigOf({ name: 'MS_CHANGES', subjects: ['ms.changes.>'], maxAgeMs: 7 * 86_400_000 })
 */
export function streamConfigOf(def: StreamDefinition): _ManagedStreamConfig {
  const f = `streams[${def.name}]`;
  _checkName(`${f}.name`, def.name);
  const subjects: string[] = Array.isArray(def.subjects) ? def.subjects.map(String) : [];
  if (subjects.length === 0) _fail(`${f}.subjects`, 'must be a non-empty list');
  subjects.forEach((s, i) => _checkSubject(`${f}.subjects[${i}]`, s));
  const maxAgeMs = def.maxAgeMs ?? 0;
  const dup = def.duplicateWindowMs ?? StreamDefaults.duplicateWindowMs;
  _checkInt(`${f}.maxAgeMs`, maxAgeMs, 0);
  _checkInt(`${f}.maxBytes`, def.maxBytes ?? -1, -1);
  _checkInt(`${f}.maxMsgs`, def.maxMsgs ?? -1, -1);
  _checkInt(`${f}.maxMsgSize`, def.maxMsgSize ?? StreamDefaults.maxMsgSize, 1);
  _checkInt(`${f}.duplicateWindowMs`, dup, 1);
  _checkInt(`${f}.replicas`, def.replicas ?? 1, 1, 5);
  // The server silently clamps the window to max_age; refusing it here keeps "what you asked is what you get".
  if (maxAgeMs > 0 && dup > maxAgeMs) _fail(`${f}.duplicateWindowMs`, 'must not exceed maxAgeMs');
  return {
    name: def.name,
    subjects,
    description: def.description ?? '',
    storage: def.storage === 'memory' ? StorageType.Memory : StorageType.File,
    retention: def.retention === 'interest' ? RetentionPolicy.Interest : def.retention === 'workqueue' ? RetentionPolicy.Workqueue : RetentionPolicy.Limits,
    max_age: _nanos(maxAgeMs),
    max_bytes: def.maxBytes ?? -1,
    max_msgs: def.maxMsgs ?? -1,
    max_msg_size: def.maxMsgSize ?? StreamDefaults.maxMsgSize,
    duplicate_window: _nanos(dup),
    discard: def.discard === 'new' ? DiscardPolicy.New : DiscardPolicy.Old,
    num_replicas: def.replicas ?? 1,
  };
}

/**
 * A definition for one of the protocol's streams (`Streams.changes`...) with the given limits.
 * @example streamDefinitionFor(Streams.changes, { maxAgeMs: 7 * 86_400_000 })
 */
export function streamDefinitionFor(spec: StreamSpec, limits: Omit<StreamDefinition, 'name' | 'subjects'> = {}): StreamDefinition {
  return { ...limits, name: spec.name, subjects: [...spec.subjects] };
}
