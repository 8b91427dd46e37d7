// Process-wide tracing set-up for a service: one tracer provider (batching OTLP/HTTP protobuf exporter), the
// AsyncLocalStorage context manager and the W3C trace-context + baggage propagator, registered with
// @opentelemetry/api so every `trace.getTracer(...)` in the code base records into it. Called first thing in
// each app's main.ts; its handle's shutdown() runs after Nest has closed, so the spans of the shutdown itself
// are flushed too.
import { randomUUID } from 'node:crypto';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type Sampler,
  type SpanExporter,
} from '@opentelemetry/sdk-trace';
import type { Env } from '@merklesync/config';
import { parseTelemetryConfig, type TelemetryConfig } from './config.ts';
import { TelemetryError, TelemetryErrorCode } from './errors.ts';
import { _GuardedExporter } from './guarded-exporter.ts';
import { consoleLogger, type TelemetryLogger } from './logger.ts';

/** Options of {@link startTelemetry}. */
export interface StartTelemetryOptions {
  /** Default `service.name` (OTEL_SERVICE_NAME overrides it). */
  readonly serviceName: string;
  /** The environment, read once (main.ts passes process.env). */
  readonly env: Env;
  /** Where the one-line notices go (Nest's `new Logger('telemetry')` fits); console by default. */
  readonly logger?: TelemetryLogger;
  /** Replaces the OTLP exporter (tests). */
  readonly exporter?: SpanExporter;
}

/** What {@link startTelemetry} returns. */
export interface Telemetry {
  readonly config: TelemetryConfig;
  /** Whether spans are recorded and exported (see {@link TelemetryConfig.enabled}). */
  readonly enabled: boolean;
  /** Exports the spans ended so far. Never rejects: a failed export is logged by the exporter guard. */
  forceFlush(): Promise<void>;
  /**
   * Flushes the remaining spans and unregisters everything. Idempotent; never rejects; resolves within the
   * export timeout (plus a small margin) even when the collector never answers.
   */
  shutdown(): Promise<void>;
}

// What shutdown may take beyond one export timeout (the processor flushes, then the exporter closes).
const _SHUTDOWN_MARGIN_MS = 1000;

function _sampler(config: TelemetryConfig): Sampler {
  const { name, ratio } = config.sampler;
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio);
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
  }
}

/** Resolves when `p` settles or after `ms`, whichever comes first; true when `p` fulfilled in time. */
async function _within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
    timer.unref();
  });
  try {
    return await Promise.race([p.then(() => true), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Reads the OTEL_* variables of `env` and registers tracing globally. Without an endpoint (or with
 * OTEL_SDK_DISABLED=true / OTEL_TRACES_EXPORTER=none) no span is recorded, which is logged once; the context
 * manager and the W3C propagator are registered either way, so a trace passing through this service keeps its
 * parent links.
 * @throws TelemetryConfigError naming a bad variable; TelemetryError(ALREADY_STARTED) when something else is
 *   registered globally already.
 * @example
 * const telemetry = startTelemetry({ serviceName: 'prover', env: process.env, logger: new Logger('telemetry') });
 * … await app.close(); await telemetry.shutdown();
 */
export function startTelemetry(options: StartTelemetryOptions): Telemetry {
  const config = parseTelemetryConfig(options.env, options.serviceName);
  const logger = options.logger ?? consoleLogger;

  const contextManager = new AsyncLocalStorageContextManager().enable();
  const registered: (() => void)[] = [];
  const unregister = (): void => {
    for (const undo of registered.reverse()) undo();
    registered.length = 0;
  };
  const register = (what: string, ok: boolean, undo: () => void): void => {
    if (!ok) {
      unregister();
      throw new TelemetryError(TelemetryErrorCode.AlreadyStarted, `a global OpenTelemetry ${what} is registered already (startTelemetry called twice, or another SDK loaded first)`);
    }
    registered.push(undo);
  };
  register('context manager', context.setGlobalContextManager(contextManager), () => context.disable());
  register('propagator', propagation.setGlobalPropagator(new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] })), () => propagation.disable());

  if (!config.enabled) {
    logger.log(`tracing off for ${config.serviceName}: ${config.disabledReason ?? ''} (trace context still propagates)`);
    let stopped = false;
    return {
      config,
      enabled: false,
      forceFlush: () => Promise.resolve(),
      shutdown: () => {
        if (!stopped) unregister();
        stopped = true;
        return Promise.resolve();
      },
    };
  }

  const url = config.tracesUrl ?? '';
  const exporter = new _GuardedExporter(options.exporter ?? new OTLPTraceExporter({ url, timeoutMillis: config.exportTimeoutMs }), logger, url);
  const provider = new TracerProvider({
    sampler: _sampler(config),
    resource: defaultResource().merge(
      resourceFromAttributes({
        'service.namespace': 'merklesync',
        'service.instance.id': randomUUID(),
        ...config.resourceAttributes,
        'service.name': config.serviceName,
      }),
    ),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter,
        scheduledDelayMillis: config.batch.scheduleDelayMs,
        maxQueueSize: config.batch.maxQueueSize,
        maxExportBatchSize: config.batch.maxExportBatchSize,
        exportTimeoutMillis: config.exportTimeoutMs,
      }),
    ],
  });
  register('tracer provider', trace.setGlobalTracerProvider(provider), () => trace.disable());
  logger.log(`tracing ${config.serviceName} to ${url} (sampler ${config.sampler.name}${config.sampler.name.endsWith('traceidratio') ? ` ${config.sampler.ratio}` : ''})`);

  const deadline = config.exportTimeoutMs + _SHUTDOWN_MARGIN_MS;
  let stopping: Promise<void> | undefined;
  return {
    config,
    enabled: true,
    async forceFlush() {
      await _within(provider.forceFlush({ timeoutMillis: config.exportTimeoutMs }), deadline);
    },
    shutdown() {
      stopping ??= (async () => {
        // The exporter guard has logged a failed export already; a flush that outlives its deadline is given up.
        const flushed = await _within(provider.shutdown(), deadline);
        if (!flushed) logger.warn(`spans not flushed to ${url} at shutdown; they are dropped`);
        unregister();
      })();
      return stopping;
    },
  };
}
