/** Where the library reports (once) that tracing is off or the collector is unreachable. Nest's Logger fits. */
export interface TelemetryLogger {
  log(message: string): void;
  warn(message: string): void;
}

/** Plain console output, for processes without a logger. */
export const consoleLogger: TelemetryLogger = {
  log: (m) => console.log(`[telemetry] ${m}`),
  warn: (m) => console.warn(`[telemetry] ${m}`),
};
