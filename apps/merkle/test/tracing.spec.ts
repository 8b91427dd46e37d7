// A group commit belongs to every message in it: its span links each message's trace (the real SDK exporting
// to an OTLP receiver in this process).
import 'reflect-metadata';
import type { INestMicroservice } from '@nestjs/common';
import { ROOT_CONTEXT, context, trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSignerKey } from '@merklesync/crypto';
import { NatsConnectionProvider } from '@merklesync/messaging';
import { decodeEvent } from '@merklesync/protocol';
import { startTelemetry, type Telemetry } from '@merklesync/telemetry';
import { startOtlpReceiver, type OtlpReceiver } from '@merklesync/telemetry/testing';
import { ApplyService } from '../src/apply/apply.service.ts';
import { createMerkleApp } from '../src/bootstrap.ts';
import { busSubjects } from '../src/bus-subjects.ts';
import { SyntheticSource } from './support/changes.ts';
import { createTestDb, openBus, testConfig, type BusScope, type TestDb } from './support/env.ts';

let rx: OtlpReceiver;
let telemetry: Telemetry;
let db: TestDb;
let bus: BusScope;
let app: INestMicroservice | undefined;

beforeAll(async () => {
  rx = await startOtlpReceiver();
  telemetry = startTelemetry({ serviceName: 'merkle', env: { OTEL_EXPORTER_OTLP_ENDPOINT: rx.url, OTEL_BSP_SCHEDULE_DELAY: '3600000' }, logger: { log() {}, warn() {} } });
  db = await createTestDb();
  bus = await openBus();
});

afterAll(async () => {
  await app?.close();
  await telemetry?.shutdown();
  await bus?.cleanup();
  await db?.drop();
  await rx?.close();
});

describe('merkle tracing', () => {
  it('one span per group commit, linked to the trace of every message in the group', async () => {
    const sc = await bus.scenario('t');
    const config = testConfig(db, sc);
    const src = new SyntheticSource(`src-${bus.id}-t`);
    const subj = busSubjects(sc.prefix);
    app = await createMerkleApp(config, { signer: generateSignerKey('merkle.test/log'), logger: ['error', 'warn'] });
    await app.init();
    await app.get(NatsConnectionProvider).connect();
    const applier = app.get(ApplyService);
    const tracer = trace.getTracer('test');
    const msgs = await Promise.all(
      [0, 1, 2].map(async (i) => {
        const bytes = src.batch('users', [{ pk: `k${i}`, row: `v${i}` }]);
        return { bytes, seq: (await bus.js.publish(subj.changes(src.source, 'users'), bytes)).seq };
      }),
    );
    msgs.sort((a, b) => a.seq - b.seq);
    // Three messages, each handled in its own trace, handed over in one tick: they form one group.
    const spans = msgs.map((_, i) => tracer.startSpan(`message ${i}`, {}, ROOT_CONTEXT));
    const outcomes = await Promise.all(
      msgs.map((m, i) => context.with(trace.setSpan(ROOT_CONTEXT, spans[i]!), () => applier.apply(decodeEvent('change-batch', m.bytes), m.seq, subj.changes(src.source, 'users')))),
    );
    for (const s of spans) s.end();
    expect(outcomes.map((o) => o.applied)).toEqual([true, true, true]);
    expect(applier.timings.groups).toBe(1);
    await telemetry.forceFlush();
    await rx.waitFor((all) => all.some((s) => s.name === 'merkle apply group'), 'the group span');
    const groups = rx.spans.filter((s) => s.name === 'merkle apply group');
    expect(groups).toHaveLength(1);
    const g = groups[0]!;
    expect(g.attributes).toMatchObject({ 'merklesync.group.messages': 3, 'merklesync.group.first_seq': msgs[0]!.seq, 'merklesync.group.last_seq': msgs[2]!.seq });
    const want = spans.map((s) => ({ traceId: s.spanContext().traceId, spanId: s.spanContext().spanId }));
    expect(new Set(g.links.map((l) => `${l.traceId}/${l.spanId}`))).toEqual(new Set(want.map((l) => `${l.traceId}/${l.spanId}`)));
    expect(g.service).toBe('merkle');
  });
});
