// What a durable pull consumer should look like, and its translation to the JetStream API's config.
import { AckPolicy, DeliverPolicy, ReplayPolicy, type ConsumerConfig } from '@nats-io/jetstream';
import { _checkInt, _checkName, _checkSubject, _fail, _nanos } from '../config.ts';

/** A durable pull consumer's wanted configuration (acks are always explicit). */
export interface ConsumerDefinition {
  /** The stream it reads. */
  readonly stream: string;
  /** Durable name: every replica of a service pulls from the same consumer and shares its messages. */
  readonly name: string;
  readonly description?: string;
  /**
   * Subjects it delivers (one, or several on NATS ≥ 2.10); empty or absent = the whole stream. Use the
   * protocol's partitionedFilter() to read one source or one table.
   */
  readonly filterSubjects?: readonly string[];
  /** Time a delivered message may stay unacknowledged before it is redelivered, ms (default 30 s). */
  readonly ackWaitMs?: number;
  /** Deliveries before the runner dead-letters a failing message (default 5); -1 = unlimited (never dead-letter retryable failures). */
  readonly maxDeliver?: number;
  /** Delivered-but-unacknowledged messages allowed at once across all pullers (default 1000). */
  readonly maxAckPending?: number;
  /**
   * Redelivery delays, ms, for messages whose ack wait expired (the server's `backoff`), and the runner's nak
   * delays for retryable failures (delivery n waits element min(n-1, last)). The server then uses the first
   * element as the ack wait, so `ackWaitMs` must be absent or equal to it, and `maxDeliver` must be larger
   * than the list. Absent: ack-wait redelivery is flat and the runner naks with its own default list.
   */
  readonly backoffMs?: readonly number[];
  /** Where a new consumer starts: `all` (default) or `new`. Cannot change after creation. */
  readonly deliverPolicy?: 'all' | 'new';
}

export type _ManagedConsumerConfig = Pick<
  ConsumerConfig,
  'durable_name' | 'description' | 'ack_policy' | 'deliver_policy' | 'replay_policy' | 'ack_wait' | 'max_deliver' | 'max_ack_pending' | 'backoff' | 'filter_subject' | 'filter_subjects'
>;

/** Defaults of {@link ConsumerDefinition}. */
export const ConsumerDefaults = {
  ackWaitMs: 30_000,
  maxDeliver: 5,
  maxAckPending: 1000,
} as const;

/**
 * Checks a definition and returns the JetStream config it stands for.
 * @throws MessagingError(INVALID_CONFIG) naming the bad field.
 * @example consumerConfigOf({ stream: 'MS_CHANGES', name: 'merkle', filterSubjects: ['ms.changes.pg-main.>'] })
 */
export function consumerConfigOf(def: ConsumerDefinition): _ManagedConsumerConfig {
  const f = `consumers[${def.stream}/${def.name}]`;
  _checkName(`${f}.stream`, def.stream);
  _checkName(`${f}.name`, def.name);
  const filters = def.filterSubjects ?? [];
  filters.forEach((s, i) => _checkSubject(`${f}.filterSubjects[${i}]`, s));
  const maxDeliver = def.maxDeliver ?? ConsumerDefaults.maxDeliver;
  if (maxDeliver !== -1) _checkInt(`${f}.maxDeliver`, maxDeliver, 1);
  _checkInt(`${f}.maxAckPending`, def.maxAckPending ?? ConsumerDefaults.maxAckPending, 1);
  let ackWaitMs = def.ackWaitMs ?? ConsumerDefaults.ackWaitMs;
  _checkInt(`${f}.ackWaitMs`, ackWaitMs, 1);
  const backoff = def.backoffMs;
  if (backoff !== undefined) {
    if (!Array.isArray(backoff) || backoff.length === 0) _fail(`${f}.backoffMs`, 'must be a non-empty list when given');
    backoff.forEach((b, i) => _checkInt(`${f}.backoffMs[${i}]`, b, 1));
    const first = backoff[0] as number;
    // The server replaces ack_wait by backoff[0]; accepting another value would be silently ignored.
    if (def.ackWaitMs !== undefined && def.ackWaitMs !== first) _fail(`${f}.ackWaitMs`, 'must equal backoffMs[0] when backoffMs is given (the server uses it as the ack wait)');
    if (maxDeliver !== -1 && maxDeliver <= backoff.length) _fail(`${f}.maxDeliver`, 'must be larger than the length of backoffMs');
    ackWaitMs = first;
  }
  const cfg: _ManagedConsumerConfig = {
    durable_name: def.name,
    description: def.description ?? '',
    ack_policy: AckPolicy.Explicit,
    deliver_policy: def.deliverPolicy === 'new' ? DeliverPolicy.New : DeliverPolicy.All,
    replay_policy: ReplayPolicy.Instant,
    ack_wait: _nanos(ackWaitMs),
    max_deliver: maxDeliver,
    max_ack_pending: def.maxAckPending ?? ConsumerDefaults.maxAckPending,
  };
  if (backoff !== undefined) cfg.backoff = backoff.map(_nanos);
  // One filter goes in filter_subject, which every server version understands; several need NATS 2.10.
  if (filters.length === 1) cfg.filter_subject = filters[0];
  else if (filters.length > 1) cfg.filter_subjects = [...filters];
  return cfg;
}
