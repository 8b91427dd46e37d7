// Wraps the OTLP exporter so that a collector that is down or refuses spans is reported once (and once more
// when it answers again) instead of on every batch. Failed batches are dropped by the batch processor: the
// queue is bounded (OTEL_BSP_MAX_QUEUE_SIZE) and every export is bounded by the exporter's timeout, so a dead
// collector costs the service neither memory nor blocked work.
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import type { TelemetryLogger } from './logger.ts';

export class _GuardedExporter implements SpanExporter {
  private readonly inner: SpanExporter;
  private readonly logger: TelemetryLogger;
  private readonly where: string;
  private failing = false;
  private dropped = 0;

  constructor(inner: SpanExporter, logger: TelemetryLogger, where: string) {
    this.inner = inner;
    this.logger = logger;
    this.where = where;
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    let called = false;
    const done = (result: ExportResult): void => {
      if (called) return;
      called = true;
      if (result.code === ExportResultCode.SUCCESS) {
        if (this.failing) this.logger.log(`exporting spans to ${this.where} again (${this.dropped} dropped meanwhile)`);
        this.failing = false;
        this.dropped = 0;
      } else {
        if (!this.failing) this.logger.warn(`cannot export spans to ${this.where}: ${result.error?.message ?? 'export failed'}; dropping spans until it answers (logged once)`);
        this.failing = true;
        this.dropped += spans.length;
      }
      resultCallback(result);
    };
    try {
      this.inner.export(spans, done);
    } catch (e) {
      done({ code: ExportResultCode.FAILED, error: e instanceof Error ? e : new Error(String(e)) });
    }
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}
