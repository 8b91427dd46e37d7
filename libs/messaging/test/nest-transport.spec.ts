// The Nest microservice transport end to end: @EventPattern handlers on a real JetStream consumer, typed
// errors through Nest's exception layer, dead letters, and trace context from publisher to handler.
import 'reflect-metadata';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, MessagePattern, Payload, type MicroserviceOptions } from '@nestjs/microservices';
import type { INestMicroservice } from '@nestjs/common';
import { context, trace, TraceFlags } from '@opentelemetry/api';
import { DeadLetterHeaders, JetStreamContext, JetStreamPublisher, JetStreamServer, NatsConnectionProvider, RetryableError, TerminalError } from '../src/index.ts';
import { NATS_URL, openScope, utf8, waitFor, type TestScope } from './support/nats.ts';
import { installTracing } from '../src/testing/index.ts';

// Handler patterns are fixed at class definition, so the subject prefix is drawn here, before openScope.
const P = `tn${Math.random().toString(36).slice(2, 8)}`;

interface Seen {
  readonly subject: string;
  readonly data: unknown;
  readonly delivery: number;
  readonly traceId: string | undefined;
}
const seen: Seen[] = [];

@Controller()
class ChangesController {
  @EventPattern<string>(`${P}.changes.*.orders`)
  onOrders(@Payload() payload: unknown, @Ctx() ctx: JetStreamContext): void {
    const data = payload as { n: number; fail?: 'retry-once' | 'terminal' };
    seen.push({ subject: ctx.getSubject(), data, delivery: ctx.getDeliveryCount(), traceId: trace.getActiveSpan()?.spanContext().traceId });
    if (data.fail === 'retry-once' && ctx.getDeliveryCount() === 1) throw new RetryableError('not yet');
    if (data.fail === 'terminal') throw new TerminalError('order references an unknown table');
  }

  @MessagePattern(`${P}.changes.>`)
  async onOther(@Payload() data: unknown, @Ctx() ctx: JetStreamContext): Promise<string> {
    await Promise.resolve();
    seen.push({ subject: ctx.getSubject(), data, delivery: ctx.getDeliveryCount(), traceId: undefined });
    return 'ignored';
  }
}

@Module({ controllers: [ChangesController] })
class AppModule {}

let s: TestScope;
let app: INestMicroservice;
let server: JetStreamServer;
let nats: NatsConnectionProvider;
let publisher: JetStreamPublisher;
let stream: string;
let dlqStream: string;
let uninstall: () => void;

beforeAll(async () => {
  uninstall = installTracing();
  s = await openScope();
  stream = `${s.streamPrefix}_NEST`;
  dlqStream = `${s.streamPrefix}_NEST_DLQ`;
  server = new JetStreamServer({
    connection: { servers: NATS_URL, name: 'messaging-nest-test' },
    provision: {
      streams: [
        { name: stream, subjects: [`${P}.changes.>`] },
        { name: dlqStream, subjects: [`${P}.dlq.>`] },
      ],
      consumers: [{ stream, name: 'merkle', maxDeliver: 3 }],
    },
    consumers: [{ stream, consumer: 'merkle', deadLetterSubject: `${P}.dlq.${stream}`, backoffMs: [20] }],
    decode: (bytes) => JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as unknown,
  });
  app = await NestFactory.createMicroservice<MicroserviceOptions>(AppModule, { strategy: server, logger: false });
  await app.listen();
  nats = new NatsConnectionProvider({ servers: NATS_URL, name: 'messaging-nest-test-publisher' });
  await nats.connect();
  publisher = new JetStreamPublisher(nats);
});
afterAll(async () => {
  await app?.close();
  await nats?.close();
  await s.cleanup();
  uninstall();
});

const json = (v: unknown): Uint8Array => utf8(JSON.stringify(v));
const stats = () => server.getRunners()[0]?.stats;

describe('JetStreamServer (Nest custom transport)', () => {
  it('routes messages to @EventPattern / @MessagePattern handlers by subject and acks them', async () => {
    await publisher.publish(`${P}.changes.pg.orders`, json({ n: 1 }), { msgId: 'n1' });
    await publisher.publish(`${P}.changes.pg.users`, json({ n: 2 }), { msgId: 'n2' });
    await waitFor('both handled', () => seen.length >= 2);
    expect(seen.map((x) => [x.subject, x.data])).toEqual([
      [`${P}.changes.pg.orders`, { n: 1 }],
      [`${P}.changes.pg.users`, { n: 2 }],
    ]);
    await waitFor('acked', () => stats()?.acked === 2);
  });

  it('propagates the publisher’s trace context (traceparent) into the handler’s active span', async () => {
    const traceId = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
    const parent = trace.wrapSpanContext({ traceId, spanId: '1122334455667788', traceFlags: TraceFlags.SAMPLED });
    await context.with(trace.setSpan(context.active(), parent), () => publisher.publish(`${P}.changes.pg.orders`, json({ n: 3 }), { msgId: 'n3' }));
    const got = await waitFor('handled', () => seen.find((x) => (x.data as { n: number }).n === 3));
    expect(got.traceId).toBe(traceId);
  });

  it('redelivers after a RetryableError thrown through Nest, then acks', async () => {
    const before = stats()?.acked ?? 0;
    await publisher.publish(`${P}.changes.pg.orders`, json({ n: 4, fail: 'retry-once' }), { msgId: 'n4' });
    await waitFor('acked after retry', () => (stats()?.acked ?? 0) === before + 1);
    expect(seen.filter((x) => (x.data as { n: number }).n === 4).map((x) => x.delivery)).toEqual([1, 2]);
  });

  it('dead-letters a TerminalError at once, and a malformed payload without calling a handler', async () => {
    const handled = seen.length;
    const t = await publisher.publish(`${P}.changes.pg.orders`, json({ n: 5, fail: 'terminal' }), { msgId: 'n5' });
    const m = await publisher.publish(`${P}.changes.pg.orders`, utf8('{not json'), { msgId: 'n6' });
    await waitFor('two dead letters', () => stats()?.deadLettered === 2);
    expect(seen.length).toBe(handled + 1);
    const first = await s.jsm.streams.getMessage(dlqStream, { seq: 1 });
    const second = await s.jsm.streams.getMessage(dlqStream, { seq: 2 });
    expect(first?.header.get(DeadLetterHeaders.ErrorCode)).toBe('TERMINAL');
    expect(first?.header.get(DeadLetterHeaders.ErrorMessage)).toBe('order references an unknown table');
    expect(first?.header.get(DeadLetterHeaders.Reason)).toBe('terminal');
    expect(first?.header.get(DeadLetterHeaders.OriginalSequence)).toBe(String(t.seq));
    expect(first?.header.get(DeadLetterHeaders.DeliveryCount)).toBe('1');
    expect(second?.string()).toBe('{not json');
    expect(second?.header.get(DeadLetterHeaders.ErrorCode)).toBe('MALFORMED_PAYLOAD');
    expect(second?.header.get(DeadLetterHeaders.OriginalSequence)).toBe(String(m.seq));
    await waitFor('nothing pending', async () => {
      const info = await s.jsm.consumers.info(stream, 'merkle');
      return info.num_pending === 0 && info.num_ack_pending === 0;
    });
  });

  it('closes gracefully: app.close() stops the runners and drains its own connection', async () => {
    await app.close();
    expect(server.getRunners()).toHaveLength(0);
    await publisher.publish(`${P}.changes.pg.orders`, json({ n: 7 }), { msgId: 'n7' });
    expect((await s.jsm.consumers.info(stream, 'merkle')).num_pending).toBe(1);
  });
});
