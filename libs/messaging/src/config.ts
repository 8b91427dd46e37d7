// Typed configuration of the transport and its checks. Config objects are built once at start-up (by the
// service's config module, from the environment) and validated here; nothing in this library reads
// process.env.
import { MessagingError, MessagingErrorCode } from './errors.ts';

/** How to reach NATS. */
export interface NatsConnectionConfig {
  /** `host:port` or `nats://host:port`, one or several (the client fails over between them). */
  readonly servers: string | readonly string[];
  /** Client name shown by the server (`nats server report connections`); use the service name. */
  readonly name: string;
  readonly reconnect?: {
    /** Attempts per server before giving up; -1 = forever (the default: a service should outlive NATS restarts). */
    readonly maxAttempts?: number;
    /** Wait between attempts on the same server, in ms (default 2000). */
    readonly timeWaitMs?: number;
    /** Random extra wait, in ms, so a fleet does not reconnect in lockstep (default 100). */
    readonly jitterMs?: number;
  };
  /** Time to establish the first connection, in ms (default 5000). */
  readonly connectTimeoutMs?: number;
  /** Default time to wait for JetStream API replies and PubAcks, in ms (default 5000). */
  readonly requestTimeoutMs?: number;
  readonly user?: string;
  readonly pass?: string;
  readonly token?: string;
}

export function _fail(field: string, why: string): never {
  throw new MessagingError(MessagingErrorCode.InvalidConfig, `${field}: ${why}`);
}

export function _checkInt(field: string, v: unknown, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) _fail(field, `must be an integer in [${min}, ${max}], got ${String(v)}`);
}

export function _checkName(field: string, v: unknown): void {
  // Stream and consumer names become API subject tokens: no '.', '*', '>', whitespace or path separators.
  if (typeof v !== 'string' || !/^[A-Za-z0-9_-]{1,255}$/.test(v)) _fail(field, `must match [A-Za-z0-9_-]{1,255}, got ${JSON.stringify(v)}`);
}

export function _checkSubject(field: string, v: unknown): void {
  if (typeof v !== 'string' || v.length === 0 || /\s/.test(v) || v.split('.').some((t) => t.length === 0)) {
    _fail(field, `must be a NATS subject (non-empty dot-separated tokens, no whitespace), got ${JSON.stringify(v)}`);
  }
}

/**
 * Validates a connection config.
 * @throws MessagingError(INVALID_CONFIG) naming the bad field.
 * @example validateConnectionConfig({ servers: '127.0.0.1:4222', name: 'ingest' })
 */
export function validateConnectionConfig(config: NatsConnectionConfig): NatsConnectionConfig {
  if (typeof config !== 'object' || config === null) _fail('nats', 'must be an object');
  const servers = typeof config.servers === 'string' ? [config.servers] : config.servers;
  if (!Array.isArray(servers) || servers.length === 0 || servers.some((s) => typeof s !== 'string' || s.length === 0)) {
    _fail('nats.servers', 'must be a non-empty string or list of strings');
  }
  if (typeof config.name !== 'string' || config.name.length === 0) _fail('nats.name', 'must be a non-empty string');
  const r = config.reconnect ?? {};
  if (r.maxAttempts !== undefined) _checkInt('nats.reconnect.maxAttempts', r.maxAttempts, -1);
  if (r.timeWaitMs !== undefined) _checkInt('nats.reconnect.timeWaitMs', r.timeWaitMs, 0);
  if (r.jitterMs !== undefined) _checkInt('nats.reconnect.jitterMs', r.jitterMs, 0);
  if (config.connectTimeoutMs !== undefined) _checkInt('nats.connectTimeoutMs', config.connectTimeoutMs, 1);
  if (config.requestTimeoutMs !== undefined) _checkInt('nats.requestTimeoutMs', config.requestTimeoutMs, 1);
  return config;
}

/** Milliseconds to the nanoseconds the JetStream API speaks. */
export function _nanos(ms: number): number {
  return ms * 1_000_000;
}

/** Nanoseconds from the JetStream API to milliseconds. */
export function _millis(ns: number): number {
  return Math.round(ns / 1_000_000);
}
