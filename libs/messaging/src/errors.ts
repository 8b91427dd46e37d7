// Two families of errors. `MessagingError` is what this library raises to its callers (bad config, a stream
// that cannot be provisioned, a publish that was not acknowledged). The handler errors (`RetryableError`,
// `TerminalError`, `MalformedPayloadError`) are what message handlers raise to tell the consumer runner what
// to do with a message; consume/disposition.ts maps them to ack / nak / dead-letter in one switch.
import { RpcException } from '@nestjs/microservices';

/** Codes of {@link MessagingError}. A const object (erasable TS), switched on by callers. */
export const MessagingErrorCode = {
  /** A configuration object is missing a field or has a value out of range; the message names the field. */
  InvalidConfig: 'INVALID_CONFIG',
  /** The NATS connection is not open (never connected, closed or draining). */
  NotConnected: 'NOT_CONNECTED',
  /** A stream exists with a configuration that cannot be updated in place to the wanted one (storage, retention). */
  StreamConflict: 'STREAM_CONFLICT',
  /** A durable consumer exists with a configuration that cannot be updated in place (deliver or ack policy...). */
  ConsumerConflict: 'CONSUMER_CONFLICT',
  /** The server refused to create or update a stream or consumer (overlapping subjects, limits...). */
  ProvisioningFailed: 'PROVISIONING_FAILED',
  /** The durable consumer a runner should pull from does not exist (provision it first). */
  ConsumerNotFound: 'CONSUMER_NOT_FOUND',
  /** No stream captures the subject (or JetStream is not enabled): nobody acknowledged the publish. */
  NoStream: 'NO_STREAM',
  /** No PubAck arrived in time; the message may or may not be stored — republish with the same msgId. */
  PublishTimeout: 'PUBLISH_TIMEOUT',
  /** The stream refused the message (too large, expectation failed...). Republishing will not help. */
  PublishRejected: 'PUBLISH_REJECTED',
  /** The publish failed for another reason (connection closed...). */
  PublishFailed: 'PUBLISH_FAILED',
} as const;
export type MessagingErrorCode = (typeof MessagingErrorCode)[keyof typeof MessagingErrorCode];

/**
 * The error this library raises; `code` says what went wrong.
 * @example
 * try { await publisher.publish(subject, bytes, { msgId }) }
 * catch (e) { if (e instanceof MessagingError && e.code === MessagingErrorCode.PublishTimeout) retry() }
 */
export class MessagingError extends Error {
  readonly code: MessagingErrorCode;
  constructor(code: MessagingErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MessagingError';
    this.code = code;
  }
}

/** Codes of the handler errors, and of the failures the runner itself detects. */
export const HandlerErrorCode = {
  /** A transient failure (database down, timeout): nak with backoff, dead-letter after the last delivery. */
  Retryable: 'RETRYABLE',
  /** The message can never be processed (business rule): dead-letter now. */
  Terminal: 'TERMINAL',
  /** The payload cannot be decoded or validated: dead-letter now. */
  MalformedPayload: 'MALFORMED_PAYLOAD',
  /** No handler is registered for the message's subject: dead-letter now. */
  NoHandler: 'NO_HANDLER',
  /** Anything else the handler threw: logged, retried like RETRYABLE, dead-lettered after the last delivery. */
  Unknown: 'UNKNOWN',
} as const;
export type HandlerErrorCode = (typeof HandlerErrorCode)[keyof typeof HandlerErrorCode];

// Handler errors extend Nest's RpcException and return themselves from getError(): Nest's default RPC
// exception filter rethrows the object getError() returns, so the error reaches the transport with its class
// and code intact. Any other error is replaced by Nest with `{ status: 'error', message }` (see
// nest/passthrough-filter.ts to keep those too).
abstract class _HandlerError extends RpcException {
  abstract readonly code: HandlerErrorCode;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message);
    if (options?.cause !== undefined) this.cause = options.cause;
  }
  override getError(): object {
    return this;
  }
}

/**
 * Thrown by a handler for a transient failure: the message is nak'ed with the next delay of the backoff list
 * (or `retryAfterMs`), and dead-lettered once its delivery count reaches the consumer's `max_deliver`.
 * @example throw new RetryableError('database unavailable', { cause: e, retryAfterMs: 2000 })
 */
export class RetryableError extends _HandlerError {
  readonly code = HandlerErrorCode.Retryable;
  /** Overrides the backoff list for this one redelivery. */
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options?: { cause?: unknown; retryAfterMs?: number }) {
    super(message, options);
    this.name = 'RetryableError';
    this.retryAfterMs = options?.retryAfterMs;
  }
}

/**
 * Thrown by a handler when the message can never succeed: it is dead-lettered at once and terminated.
 * @example throw new TerminalError(`unknown table ${table}`)
 */
export class TerminalError extends _HandlerError {
  readonly code = HandlerErrorCode.Terminal;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TerminalError';
  }
}

/**
 * Thrown (by a decoder or a handler) when the payload is not a valid message: dead-lettered at once.
 * @example throw new MalformedPayloadError('not JSON', { cause: e })
 */
export class MalformedPayloadError extends _HandlerError {
  readonly code = HandlerErrorCode.MalformedPayload;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MalformedPayloadError';
  }
}

/**
 * Raised by the Nest strategy when no `@EventPattern` / `@MessagePattern` matches a message's subject.
 * @example new NoHandlerError('ms.changes.pg.users')
 */
export class NoHandlerError extends _HandlerError {
  readonly code = HandlerErrorCode.NoHandler;
  constructor(subject: string) {
    super(`no handler for subject ${subject}`);
    this.name = 'NoHandlerError';
  }
}
