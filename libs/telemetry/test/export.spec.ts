// Tracing end to end against a real OTLP/HTTP receiver (in this process) and the real NATS server: spans go
// through the real batch processor and protobuf exporter; one trace crosses JetStream (publish → consume, the
// ingest → merkle shape) and one crosses processes over request/reply (the gateway → prover shape, with the
// responder as a child process that has its own startTelemetry). Subjects and streams get a random prefix;
// nothing touches the production ms.* subjects or MS_* streams.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { context, propagation, SpanKind, trace, type Span } from '@opentelemetry/api';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { ConsumerRunner, ensureStream, JetStreamPublisher, natsHeadersSetter, provision } from '@merklesync/messaging';
import { ProverClient, ProverRequestKind } from '@merklesync/prover-client';
import { startTelemetry, TelemetryErrorCode, type Telemetry, type TelemetryError } from '../src/index.ts';
import { OtlpSpanKind, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../src/testing/index.ts';

const NATS_URL = '127.0.0.1:4222';
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const id = randomBytes(4).toString('hex');
const prefix = `tel${id}`;
const STREAM = `TEL${id.toUpperCase()}_CHANGES`;
// Batches are held for an hour: whatever the receiver gets before shutdown() would be a bug, after it a flush.
const HOLD = { OTEL_BSP_SCHEDULE_DELAY: '3600000' };

let nc: NatsConnection;
let js: JetStreamClient;
let jsm: JetStreamManager;
let telemetry: Telemetry | undefined;
const receivers: OtlpReceiver[] = [];
const children: ChildProcess[] = [];

function logs(): { log(m: string): void; warn(m: string): void; lines: string[] } {
  const lines: string[] = [];
  return { lines, log: (m) => lines.push(`log ${m}`), warn: (m) => lines.push(`warn ${m}`) };
}

async function receiver(respond: 'ok' | 'never' = 'ok'): Promise<OtlpReceiver> {
  const rx = await startOtlpReceiver({ respond });
  receivers.push(rx);
  return rx;
}

/** A port nothing listens on (bound, then released). */
async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Resolves with the value of `p`, or rejects if it takes longer than `ms` (a deadline, not a measurement). */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

const byName = (spans: readonly ReceivedSpan[], name: string): ReceivedSpan => {
  const s = spans.find((x) => x.name === name);
  if (s === undefined) throw new Error(`no span ${name} in ${JSON.stringify(spans.map((x) => x.name))}`);
  return s;
};

beforeAll(async () => {
  nc = await connect({ servers: NATS_URL, name: `telemetry-test-${id}` });
  js = jetstream(nc);
  jsm = await jetstreamManager(nc);
});

afterEach(async () => {
  await telemetry?.shutdown();
  telemetry = undefined;
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const rx of receivers.splice(0)) await rx.close();
});

afterAll(async () => {
  for await (const name of jsm.streams.names()) if (name === STREAM) await jsm.streams.delete(name);
  await nc.close();
});

describe('startTelemetry with a real OTLP receiver', () => {
  it('one trace across JetStream: root → producer (send batch) → consumer (process) → handler span; resource and flush on shutdown', async () => {
    const rx = await receiver();
    const log = logs();
    telemetry = startTelemetry({ serviceName: 'tel-ingest', env: { OTEL_EXPORTER_OTLP_ENDPOINT: rx.url, OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=test', ...HOLD }, logger: log });
    expect(telemetry.enabled).toBe(true);
    expect(log.lines).toEqual([`log tracing tel-ingest to ${rx.url}/v1/traces (sampler parentbased_always_on)`]);

    await ensureStream(jsm, { name: STREAM, subjects: [`${prefix}.changes.>`] });
    await provision(jsm, { consumers: [{ stream: STREAM, name: 'apply', filterSubjects: [`${prefix}.changes.>`], maxDeliver: 3, ackWaitMs: 10_000 }] });
    const tracer = trace.getTracer('telemetry-test');
    let handled!: () => void;
    const done = new Promise<void>((r) => (handled = r));
    const runner = new ConsumerRunner(js, {
      stream: STREAM,
      consumer: 'apply',
      logger: { log() {}, warn() {}, error() {} },
      handler: () => {
        tracer.startActiveSpan('apply batch', (span) => span.end());
        handled();
      },
    });
    await runner.start();
    const publisher = new JetStreamPublisher({ jetstream: () => js });
    await tracer.startActiveSpan('ingest transaction', async (span: Span) => {
      await publisher.publishBatch([{ subject: `${prefix}.changes.pg.users`, payload: new Uint8Array([1]), msgId: `${id}:1` }]);
      span.end();
    });
    await within(done, 20_000, 'the consumer handling the message');
    await runner.stop();

    expect(rx.requests).toBe(0); // held by the batch processor until the flush
    await telemetry.shutdown();
    const spans = rx.spans;
    const root = byName(spans, 'ingest transaction');
    const send = byName(spans, 'send batch');
    const process = byName(spans, `process ${prefix}.changes.pg.users`);
    const apply = byName(spans, 'apply batch');
    expect(root.parentSpanId).toBeUndefined();
    for (const s of [send, process, apply]) expect(s.traceId).toBe(root.traceId);
    expect(send.parentSpanId).toBe(root.spanId);
    expect(process.parentSpanId).toBe(send.spanId);
    expect(apply.parentSpanId).toBe(process.spanId);
    expect([send.kind, process.kind]).toEqual([OtlpSpanKind.Producer, OtlpSpanKind.Consumer]);
    expect(process.attributes['messaging.nats.stream']).toBe(STREAM);
    expect(new Set(spans.map((s) => s.service))).toEqual(new Set(['tel-ingest']));
    expect(root.resource).toMatchObject({ 'service.namespace': 'merklesync', 'deployment.environment.name': 'test', 'telemetry.sdk.language': 'nodejs' });
    expect(typeof root.resource['service.instance.id']).toBe('string');
  });

  it('one trace across processes over request/reply: client span here, server span in the responder process (its own service.name)', async () => {
    const rx = await receiver();
    telemetry = startTelemetry({ serviceName: 'tel-gateway', env: { OTEL_EXPORTER_OTLP_ENDPOINT: rx.url, ...HOLD }, logger: logs() });
    const proverPrefix = `${prefix}.prover`;
    const child = spawn(process.execPath, [join(ROOT, 'libs/telemetry/test/fixtures/responder.ts')], {
      cwd: ROOT,
      env: { PATH: process.env['PATH'], NATS_URL, RESPONDER_SUBJECT: `${proverPrefix}.>`, OTEL_EXPORTER_OTLP_ENDPOINT: rx.url, OTEL_SERVICE_NAME: 'tel-prover', ...HOLD },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let stderr = '';
    child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('exit', (code, signal) => r({ code, signal })));
    await within(
      new Promise<void>((resolve, reject) => {
        child.stdout?.on('data', (b: Buffer) => b.toString().includes('ready') && resolve());
        void exited.then(() => reject(new Error(`responder exited: ${stderr}`)));
      }),
      30_000,
      'the responder starting',
    );

    const client = new ProverClient(nc, { prefix: proverPrefix, timeoutMs: 10_000 });
    const tracer = trace.getTracer('telemetry-test');
    const reply = await tracer.startActiveSpan('GET /v1/checkpoints/latest', { kind: SpanKind.SERVER }, async (span: Span) => {
      try {
        return await client.request(ProverRequestKind.CheckpointLatest, new Uint8Array([7]));
      } finally {
        span.end();
      }
    });
    expect([...reply]).toEqual([7]);

    // The responder flushes on SIGTERM (closeOnSignals), then ends by the same signal.
    child.kill('SIGTERM');
    expect(await within(exited, 20_000, 'the responder shutting down')).toEqual({ code: null, signal: 'SIGTERM' });
    await telemetry.shutdown();

    const spans = rx.spans;
    const root = byName(spans, 'GET /v1/checkpoints/latest');
    const send = byName(spans, `send ${proverPrefix}.checkpoint.latest`);
    const served = byName(spans, `process ${proverPrefix}.checkpoint.latest`);
    expect([root.service, send.service, served.service]).toEqual(['tel-gateway', 'tel-gateway', 'tel-prover']);
    expect(send.traceId).toBe(root.traceId);
    expect(served.traceId).toBe(root.traceId);
    expect(send.parentSpanId).toBe(root.spanId);
    expect(served.parentSpanId).toBe(send.spanId);
    expect([send.kind, served.kind]).toEqual([OtlpSpanKind.Client, OtlpSpanKind.Server]);
    expect(stderr).toBe('');
  });

  it('a dead endpoint: nothing throws, the failure is logged once, shutdown resolves within its deadline', async () => {
    const log = logs();
    const url = `http://127.0.0.1:${await deadPort()}`;
    telemetry = startTelemetry({ serviceName: 'tel-dead', env: { OTEL_EXPORTER_OTLP_ENDPOINT: url, OTEL_EXPORTER_OTLP_TIMEOUT: '1000', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '1' }, logger: log });
    const tracer = trace.getTracer('telemetry-test');
    for (let i = 0; i < 5; i++) tracer.startSpan(`lost ${i}`).end();
    await within(telemetry.forceFlush(), 10_000, 'forceFlush');
    tracer.startSpan('lost at shutdown').end();
    await within(telemetry.shutdown(), 10_000, 'shutdown');
    const warnings = log.lines.filter((l) => l.startsWith('warn cannot export'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`${url}/v1/traces`);
  });

  it('a collector that accepts and never answers does not block shutdown beyond the export timeout', async () => {
    const rx = await receiver('never');
    const log = logs();
    telemetry = startTelemetry({ serviceName: 'tel-hang', env: { OTEL_EXPORTER_OTLP_ENDPOINT: rx.url, OTEL_EXPORTER_OTLP_TIMEOUT: '500', ...HOLD }, logger: log });
    trace.getTracer('telemetry-test').startSpan('stuck').end();
    // Deadline: the 500 ms export timeout plus shutdown's 1 s margin, with generous slack for a loaded machine.
    await within(telemetry.shutdown(), 8_000, 'shutdown against a hanging collector');
    expect(rx.requests).toBeGreaterThanOrEqual(1);
    expect(log.lines.some((l) => l.startsWith('warn '))).toBe(true);
  });

  it('without an endpoint: logged once, nothing recorded, but the trace context still propagates', () => {
    const log = logs();
    telemetry = startTelemetry({ serviceName: 'tel-off', env: {}, logger: log });
    expect(telemetry.enabled).toBe(false);
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]).toMatch(/^log tracing off for tel-off: neither OTEL_EXPORTER_OTLP_ENDPOINT/);
    const parent = trace.wrapSpanContext({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1 });
    const h = { set: (k: string, v: string) => out.set(k, v) } as unknown as Parameters<typeof natsHeadersSetter.set>[0];
    const out = new Map<string, string>();
    context.with(trace.setSpan(context.active(), parent), () => {
      const span = trace.getTracer('t').startSpan('child');
      expect(span.isRecording()).toBe(false);
      propagation.inject(trace.setSpan(context.active(), span), h, natsHeadersSetter);
    });
    expect(out.get('traceparent')).toBe('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
  });

  it('refuses a second start while one is registered (ALREADY_STARTED), and starts again after shutdown', async () => {
    telemetry = startTelemetry({ serviceName: 'tel-a', env: {}, logger: logs() });
    expect(() => startTelemetry({ serviceName: 'tel-b', env: {}, logger: logs() })).toThrow(expect.objectContaining({ code: TelemetryErrorCode.AlreadyStarted }) as TelemetryError);
    await telemetry.shutdown();
    telemetry = startTelemetry({ serviceName: 'tel-c', env: {}, logger: logs() });
    expect(telemetry.config.serviceName).toBe('tel-c');
  });
});
