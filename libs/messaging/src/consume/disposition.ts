// THE place where a handler's outcome becomes an acknowledgement: ack, nak with a delay, or dead-letter
// (publish to the DLQ subject, then term). Pure, so every branch is unit-tested.
import { ProtocolError } from '@merklesync/protocol';
import { HandlerErrorCode, MalformedPayloadError, MessagingError, MessagingErrorCode, NoHandlerError, RetryableError, TerminalError } from '../errors.ts';

/** A handler failure reduced to what decides its fate. */
export interface Failure {
  readonly code: HandlerErrorCode;
  /** One-line description for logs and the DLQ's Ms-Error-Message header. */
  readonly message: string;
  /** Delay wished by a RetryableError for this redelivery. */
  readonly retryAfterMs?: number;
}

/** What the runner does with a message. */
export type Disposition =
  | { readonly action: 'ack' }
  | { readonly action: 'nak'; readonly delayMs: number; readonly failure: Failure }
  | { readonly action: 'dead-letter'; readonly reason: 'terminal' | 'max-deliver'; readonly failure: Failure };

/** The runner's nak delays when neither the consumer nor the runner options give a backoff list. */
export const DEFAULT_BACKOFF_MS: readonly number[] = [1_000, 5_000, 30_000];

function _describe(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  if (typeof e === 'object' && e !== null && 'message' in e && typeof e.message === 'string') return e.message;
  return String(e);
}

/**
 * Classifies anything a handler threw. Handler errors keep their code; a ProtocolError (undecodable or
 * invalid event) is a malformed payload; a MessagingError from the handler's own publishing is retryable
 * unless retrying cannot help; everything else (including the `{ status: 'error' }` object Nest substitutes
 * for unknown exceptions) is UNKNOWN.
 * @example classifyError(new TerminalError('x')).code // 'TERMINAL'
 */
export function classifyError(e: unknown): Failure {
  if (e instanceof RetryableError) return e.retryAfterMs === undefined ? { code: e.code, message: e.message } : { code: e.code, message: e.message, retryAfterMs: e.retryAfterMs };
  if (e instanceof TerminalError || e instanceof MalformedPayloadError || e instanceof NoHandlerError) return { code: e.code, message: e.message };
  if (e instanceof ProtocolError) return { code: HandlerErrorCode.MalformedPayload, message: `${e.code}${e.field === undefined ? '' : ` at ${e.field}`}: ${e.message}` };
  if (e instanceof MessagingError) {
    switch (e.code) {
      case MessagingErrorCode.NotConnected:
      case MessagingErrorCode.NoStream:
      case MessagingErrorCode.PublishTimeout:
      case MessagingErrorCode.PublishFailed:
        return { code: HandlerErrorCode.Retryable, message: `${e.code}: ${e.message}` };
      case MessagingErrorCode.PublishRejected:
        return { code: HandlerErrorCode.Terminal, message: `${e.code}: ${e.message}` };
      case MessagingErrorCode.InvalidConfig:
      case MessagingErrorCode.StreamConflict:
      case MessagingErrorCode.ConsumerConflict:
      case MessagingErrorCode.ProvisioningFailed:
      case MessagingErrorCode.ConsumerNotFound:
        return { code: HandlerErrorCode.Unknown, message: `${e.code}: ${e.message}` };
      default: {
        const _exhaustive: never = e.code;
        return { code: HandlerErrorCode.Unknown, message: String(_exhaustive) };
      }
    }
  }
  return { code: HandlerErrorCode.Unknown, message: _describe(e) };
}

/**
 * Decides the fate of one delivery.
 * @param failure undefined when the handler succeeded.
 * @param deliveryCount this delivery's number (1 = first).
 * @param maxDeliver the consumer's max_deliver (-1 = unlimited).
 * @param backoffMs nak delays: delivery n waits backoffMs[min(n-1, last)].
 * @example decide(classifyError(e), msg.info.deliveryCount, 5, [1000, 5000])
 */
export function decide(failure: Failure | undefined, deliveryCount: number, maxDeliver: number, backoffMs: readonly number[]): Disposition {
  if (failure === undefined) return { action: 'ack' };
  switch (failure.code) {
    case HandlerErrorCode.Retryable:
    case HandlerErrorCode.Unknown: {
      // On the last allowed delivery a nak would make the server drop the message from this consumer's view
      // (MAX_DELIVERIES advisory); dead-lettering keeps it.
      if (maxDeliver > 0 && deliveryCount >= maxDeliver) return { action: 'dead-letter', reason: 'max-deliver', failure };
      const list = backoffMs.length > 0 ? backoffMs : DEFAULT_BACKOFF_MS;
      const delayMs = failure.retryAfterMs ?? list[Math.min(Math.max(deliveryCount, 1) - 1, list.length - 1)] ?? 0;
      return { action: 'nak', delayMs, failure };
    }
    case HandlerErrorCode.Terminal:
    case HandlerErrorCode.MalformedPayload:
    case HandlerErrorCode.NoHandler:
      return { action: 'dead-letter', reason: 'terminal', failure };
    default: {
      const _exhaustive: never = failure.code;
      throw new TypeError(`unhandled failure code ${String(_exhaustive)}`);
    }
  }
}
