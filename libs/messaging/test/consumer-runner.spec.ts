// The plain consumer runner against the real JetStream: ack, nak with backoff, dead-lettering after the last
// delivery, ack-progress, graceful shutdown.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetstream, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import { ConsumerRunner, DeadLetterHeaders, JetStreamPublisher, provision, RetryableError, type ConsumerRunnerOptions } from '../src/index.ts';
import { openScope, text, utf8, waitFor, type TestScope } from './support/nats.ts';

let s: TestScope;
let js: JetStreamClient;
let publisher: JetStreamPublisher;
let stream: string;
let dlqStream: string;
const runners: ConsumerRunner[] = [];

beforeAll(async () => {
  s = await openScope();
  js = jetstream(s.nc);
  publisher = new JetStreamPublisher({ jetstream: () => js });
  stream = `${s.streamPrefix}_RUN`;
  dlqStream = `${s.streamPrefix}_DLQ`;
  await provision(s.jsm, {
    streams: [
      { name: stream, subjects: [`${s.prefix}.run.>`] },
      { name: dlqStream, subjects: [`${s.prefix}.dlq.>`] },
    ],
  });
});
afterAll(async () => {
  await Promise.all(runners.map((r) => r.stop()));
  await s.cleanup();
});

async function runner(name: string, filter: string, options: Partial<ConsumerRunnerOptions> & Pick<ConsumerRunnerOptions, 'handler'>, maxDeliver = 3): Promise<ConsumerRunner> {
  await provision(s.jsm, { consumers: [{ stream, name, filterSubjects: [filter], maxDeliver, ackWaitMs: 10_000 }] });
  const r = new ConsumerRunner(js, { stream, consumer: name, deadLetterSubject: `${s.prefix}.dlq.${stream}`, backoffMs: [50, 100], logger: silent, ...options });
  runners.push(r);
  await r.start();
  return r;
}

const silent = { log() {}, error() {}, warn() {} };

async function consumerSettled(name: string): Promise<boolean> {
  const info = await s.jsm.consumers.info(stream, name);
  return info.num_pending === 0 && info.num_ack_pending === 0;
}

describe('ConsumerRunner', () => {
  it('fails fast when the consumer does not exist', async () => {
    const r = new ConsumerRunner(js, { stream, consumer: 'missing', handler: () => {}, logger: silent });
    await expect(r.start()).rejects.toMatchObject({ code: 'CONSUMER_NOT_FOUND' });
  });

  it('acks handled messages, and redelivers after a retryable error with the backoff delay', async () => {
    const seen: { body: string; delivery: number; at: number }[] = [];
    const r = await runner('retry', `${s.prefix}.run.retry`, {
      handler: (msg: JsMsg, ctx) => {
        seen.push({ body: text(msg.data), delivery: ctx.getDeliveryCount(), at: performance.now() });
        if (text(msg.data) === 'flaky' && ctx.getDeliveryCount() < 3) throw new RetryableError('database unavailable');
      },
    });
    await publisher.publish(`${s.prefix}.run.retry`, utf8('fine'), { msgId: 'r1' });
    await publisher.publish(`${s.prefix}.run.retry`, utf8('flaky'), { msgId: 'r2' });
    await waitFor('flaky acked on 3rd delivery', () => seen.filter((x) => x.body === 'flaky').length === 3);
    await waitFor('consumer settled', () => consumerSettled('retry'));
    const flaky = seen.filter((x) => x.body === 'flaky');
    expect(flaky.map((x) => x.delivery)).toEqual([1, 2, 3]);
    // Redelivery cannot come before the nak delay (50 ms, then 100 ms).
    expect((flaky[1]?.at ?? 0) - (flaky[0]?.at ?? 0)).toBeGreaterThanOrEqual(45);
    expect((flaky[2]?.at ?? 0) - (flaky[1]?.at ?? 0)).toBeGreaterThanOrEqual(95);
    expect(seen.filter((x) => x.body === 'fine')).toHaveLength(1);
    expect(r.stats).toMatchObject({ acked: 2, naked: 2, deadLettered: 0 });
  });

  it('dead-letters a message still failing at max_deliver, with the error headers, and does not redeliver it', async () => {
    let calls = 0;
    const r = await runner('exhaust', `${s.prefix}.run.exhaust`, {
      handler: () => {
        calls++;
        throw new Error('handler bug');
      },
    });
    const ack = await publisher.publish(`${s.prefix}.run.exhaust`, utf8('poison'), { msgId: 'poison-1', headers: { 'Ms-Source': 'pg' } });
    await waitFor('dead-lettered', () => r.stats.deadLettered === 1);
    await waitFor('consumer settled', () => consumerSettled('exhaust'));
    expect(calls).toBe(3);
    const dead = await s.jsm.streams.getMessage(dlqStream, { last_by_subj: `${s.prefix}.dlq.${stream}` });
    expect(dead?.string()).toBe('poison');
    const h = dead?.header;
    expect(h?.get(DeadLetterHeaders.ErrorCode)).toBe('UNKNOWN');
    expect(h?.get(DeadLetterHeaders.ErrorMessage)).toBe('Error: handler bug');
    expect(h?.get(DeadLetterHeaders.Reason)).toBe('max-deliver');
    expect(h?.get(DeadLetterHeaders.OriginalSubject)).toBe(`${s.prefix}.run.exhaust`);
    expect(h?.get(DeadLetterHeaders.OriginalStream)).toBe(stream);
    expect(h?.get(DeadLetterHeaders.OriginalConsumer)).toBe('exhaust');
    expect(h?.get(DeadLetterHeaders.OriginalSequence)).toBe(String(ack.seq));
    expect(h?.get(DeadLetterHeaders.OriginalMsgId)).toBe('poison-1');
    expect(h?.get(DeadLetterHeaders.DeliveryCount)).toBe('3');
    expect(h?.get('Ms-Source')).toBe('pg');
    expect(h?.get('Nats-Msg-Id')).toBe(`dlq:${stream}:exhaust:${ack.seq}`);
    // Terminated: nothing pending, nothing awaiting ack, so no further delivery can happen.
    const info = await s.jsm.consumers.info(stream, 'exhaust');
    expect(info.ack_floor.stream_seq).toBeGreaterThanOrEqual(ack.seq);
    expect(calls).toBe(3);
  });

  it('keeps a long message alive with keepWorking() past its ack wait', async () => {
    await provision(s.jsm, { consumers: [{ stream, name: 'slow', filterSubjects: [`${s.prefix}.run.slow`], ackWaitMs: 300, maxDeliver: 3 }] });
    let calls = 0;
    const r = new ConsumerRunner(js, {
      stream,
      consumer: 'slow',
      logger: silent,
      handler: async (_m, ctx) => {
        calls++;
        ctx.keepWorking();
        await new Promise((res) => setTimeout(res, 1_000));
      },
    });
    runners.push(r);
    await r.start();
    await publisher.publish(`${s.prefix}.run.slow`, utf8('long'), { msgId: 'slow-1' });
    await waitFor('acked', () => r.stats.acked === 1);
    await waitFor('consumer settled', () => consumerSettled('slow'));
    expect(calls).toBe(1);
    expect((await s.jsm.consumers.info(stream, 'slow')).num_redelivered).toBe(0);
  });

  it('stops gracefully: in-flight handlers finish and are acked, nothing more is pulled', async () => {
    let release!: () => void;
    const gate = new Promise<void>((res) => (release = res));
    let started = 0;
    const r = await runner('graceful', `${s.prefix}.run.graceful`, {
      concurrency: 4,
      handler: async () => {
        started++;
        await gate;
      },
    });
    for (let i = 0; i < 3; i++) await publisher.publish(`${s.prefix}.run.graceful`, utf8(`g${i}`), { msgId: `g${i}` });
    await waitFor('3 in flight', () => r.inFlightCount === 3);
    let stopped = false;
    const stopping = r.stop().then(() => (stopped = true));
    await new Promise((res) => setImmediate(res));
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(r.stats.acked).toBe(3);
    await waitFor('acks recorded', () => consumerSettled('graceful'));
    await publisher.publish(`${s.prefix}.run.graceful`, utf8('after'), { msgId: 'g-after' });
    const info = await s.jsm.consumers.info(stream, 'graceful');
    expect(info.num_pending).toBe(1);
    expect(started).toBe(3);
  });
});
