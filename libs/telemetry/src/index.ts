// Public API of @merklesync/telemetry: OpenTelemetry tracing for the services (Node only).
export { parseTelemetryConfig, SAMPLERS, TELEMETRY_ENV_VARS, type SamplerName, type TelemetryConfig } from './config.ts';
export { TelemetryConfigError, TelemetryError, TelemetryErrorCode } from './errors.ts';
export { consoleLogger, type TelemetryLogger } from './logger.ts';
export { closeOnSignals } from './signals.ts';
export { startTelemetry, type StartTelemetryOptions, type Telemetry } from './start.ts';
