// The errors this library raises. Configuration errors extend @merklesync/config's ConfigError (the message
// names the variable), so a service's start-up reports them like its own configuration errors.
import { ConfigError } from '@merklesync/config';

/** Codes of {@link TelemetryError} and {@link TelemetryConfigError}. A const object (erasable TS). */
export const TelemetryErrorCode = {
  /** An OTEL_* variable is malformed or asks for something this library does not support; the message names it. */
  InvalidConfig: 'INVALID_CONFIG',
  /** Another tracer provider, context manager or propagator is registered globally already (started twice?). */
  AlreadyStarted: 'ALREADY_STARTED',
} as const;
export type TelemetryErrorCode = (typeof TelemetryErrorCode)[keyof typeof TelemetryErrorCode];

/**
 * A bad OTEL_* variable, thrown at start-up by {@link parseTelemetryConfig} / `startTelemetry`.
 * @example try { startTelemetry({ serviceName: 'prover', env: process.env }) } catch (e) { if (e instanceof ConfigError) exit(2) }
 */
export class TelemetryConfigError extends ConfigError {
  readonly code = TelemetryErrorCode.InvalidConfig;
  constructor(variable: string, why: string) {
    super(variable, why);
    this.name = 'TelemetryConfigError';
  }
}

/**
 * Any other telemetry failure at start-up; `code` says which.
 * @example if (e instanceof TelemetryError && e.code === TelemetryErrorCode.AlreadyStarted) …
 */
export class TelemetryError extends Error {
  readonly code: TelemetryErrorCode;
  constructor(code: TelemetryErrorCode, message: string) {
    super(message);
    this.name = 'TelemetryError';
    this.code = code;
  }
}
