// The dead-letter message: the original payload, unchanged, with headers saying what failed and where it
// came from, so it can be inspected and replayed (republished to Ms-Original-Subject) later.
import type { JsMsg } from '@nats-io/jetstream';
import type { Disposition, Failure } from './disposition.ts';

/** Header names of a dead-lettered message. */
export const DeadLetterHeaders = {
  /** HandlerErrorCode of the last failure (RETRYABLE, TERMINAL, MALFORMED_PAYLOAD, NO_HANDLER, UNKNOWN). */
  ErrorCode: 'Ms-Error-Code',
  /** One line, at most 1024 characters. */
  ErrorMessage: 'Ms-Error-Message',
  /** `terminal` (failed for good) or `max-deliver` (still failing at the consumer's last allowed delivery). */
  Reason: 'Ms-Dlq-Reason',
  OriginalSubject: 'Ms-Original-Subject',
  OriginalStream: 'Ms-Original-Stream',
  OriginalConsumer: 'Ms-Original-Consumer',
  /** Stream sequence of the original message. */
  OriginalSequence: 'Ms-Original-Sequence',
  /** The original Nats-Msg-Id, when it had one. */
  OriginalMsgId: 'Ms-Original-Msg-Id',
  DeliveryCount: 'Ms-Delivery-Count',
  /** ISO-8601 UTC time the runner gave up. */
  FailedAt: 'Ms-Failed-At',
} as const;

const _MAX_VALUE = 1024;
const _OWN = new Set<string>(Object.values(DeadLetterHeaders).map((h) => h.toLowerCase()));

// Header values are one line of printable text on the wire.
function _headerValue(s: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what must go
  const one = s.replace(/[\u0000-\u001f\u007f]+/g, ' ');
  return one.length > _MAX_VALUE ? `${one.slice(0, _MAX_VALUE - 1)}…` : one;
}

/**
 * The headers of the dead-letter copy of `msg`: the original's own headers (except `Nats-*`, which belong to
 * the server) plus {@link DeadLetterHeaders}.
 * @example deadLetterHeaders(msg, failure, 'terminal', Date.now())
 */
export function deadLetterHeaders(msg: JsMsg, failure: Failure, reason: Extract<Disposition, { action: 'dead-letter' }>['reason'], nowMs: number): Record<string, string> {
  const out: Record<string, string> = {};
  const h = msg.headers;
  if (h !== undefined) {
    for (const k of h.keys()) {
      // A message dead-lettered twice (replayed, failed again) gets fresh DLQ headers, not stale ones.
      if (k.toLowerCase().startsWith('nats-') || _OWN.has(k.toLowerCase())) continue;
      out[k] = _headerValue(h.get(k));
    }
  }
  const msgId = h?.get('Nats-Msg-Id');
  out[DeadLetterHeaders.ErrorCode] = failure.code;
  out[DeadLetterHeaders.ErrorMessage] = _headerValue(failure.message);
  out[DeadLetterHeaders.Reason] = reason;
  out[DeadLetterHeaders.OriginalSubject] = msg.subject;
  out[DeadLetterHeaders.OriginalStream] = msg.info.stream;
  out[DeadLetterHeaders.OriginalConsumer] = msg.info.consumer;
  out[DeadLetterHeaders.OriginalSequence] = String(msg.info.streamSequence);
  if (msgId !== undefined && msgId !== '') out[DeadLetterHeaders.OriginalMsgId] = _headerValue(msgId);
  out[DeadLetterHeaders.DeliveryCount] = String(msg.info.deliveryCount);
  out[DeadLetterHeaders.FailedAt] = new Date(nowMs).toISOString();
  return out;
}

/**
 * Dedup id of a dead-letter copy: one per (stream, consumer, sequence), so a crash between the DLQ publish
 * and the term does not store it twice.
 * @example deadLetterMsgId(msg) // 'dlq:MS_CHANGES:merkle:42'
 */
export function deadLetterMsgId(msg: JsMsg): string {
  return `dlq:${msg.info.stream}:${msg.info.consumer}:${msg.info.streamSequence}`;
}
