// Shutdown order for a service with tracing: Nest closes first (its shutdown hooks run and their spans end),
// then the tracer provider flushes, then the process ends by the same signal, as Nest's own
// enableShutdownHooks() would have ended it. Nest's hooks re-raise the signal as soon as the application is
// closed, which leaves no room for the flush; this replaces them.
import type { Telemetry } from './start.ts';
import { consoleLogger, type TelemetryLogger } from './logger.ts';

/** Something Nest-like to close; Nest passes the signal on to the shutdown hooks. */
export interface ClosableApp {
  close(signal?: string): Promise<void>;
}

/**
 * On the first of `signals`: closes `app` (with the signal, as `enableShutdownHooks` does), shuts telemetry
 * down (bounded by its export timeout), then re-raises the signal. Further signals while closing are ignored.
 * A failing close is logged and exits with status 1. Use instead of `app.enableShutdownHooks(signals)`.
 * @example closeOnSignals(app, telemetry, { signals: ['SIGTERM', 'SIGINT'], logger: new Logger('ingest') })
 */
export function closeOnSignals(app: ClosableApp, telemetry: Pick<Telemetry, 'shutdown'>, options: { signals?: readonly NodeJS.Signals[]; logger?: TelemetryLogger } = {}): void {
  const signals = options.signals ?? ['SIGTERM', 'SIGINT'];
  const logger = options.logger ?? consoleLogger;
  let closing = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (closing) return;
    closing = true;
    void (async () => {
      let failed = false;
      try {
        await app.close(signal);
      } catch (e) {
        failed = true;
        logger.warn(`error during shutdown: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      }
      await telemetry.shutdown();
      for (const s of signals) process.removeListener(s, onSignal);
      if (failed) process.exit(1);
      else process.kill(process.pid, signal);
    })();
  };
  for (const s of signals) process.on(s, onSignal);
}
