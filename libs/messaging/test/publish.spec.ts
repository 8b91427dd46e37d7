// Publishing against the real JetStream: PubAcks, Nats-Msg-Id deduplication, batches, error codes, and the
// W3C trace context written into the headers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { context, trace, TraceFlags } from '@opentelemetry/api';
import { BatchPublishError, ensureStream, JetStreamPublisher, MessagingError, NatsConnectionProvider } from '../src/index.ts';
import { NATS_URL, openScope, utf8, type TestScope } from './support/nats.ts';
import { installTracing } from '../src/testing/index.ts';

let s: TestScope;
let nats: NatsConnectionProvider;
let publisher: JetStreamPublisher;
let stream: string;
let uninstall: () => void;

beforeAll(async () => {
  uninstall = installTracing();
  s = await openScope();
  stream = `${s.streamPrefix}_PUB`;
  await ensureStream(s.jsm, { name: stream, subjects: [`${s.prefix}.pub.>`], maxMsgSize: 2048 });
  nats = new NatsConnectionProvider({ servers: NATS_URL, name: 'messaging-publish-test' });
  await nats.connect();
  publisher = new JetStreamPublisher(nats);
});
afterAll(async () => {
  await nats.close();
  await s.cleanup();
  uninstall();
});

describe('JetStreamPublisher', () => {
  it('awaits the PubAck and deduplicates by Nats-Msg-Id: the duplicate is flagged and stored once', async () => {
    const subject = `${s.prefix}.pub.dedup`;
    const a = await publisher.publish(subject, utf8('one'), { msgId: 'pg:0/16B3748:0' });
    const b = await publisher.publish(subject, utf8('one again'), { msgId: 'pg:0/16B3748:0' });
    expect(a).toEqual({ stream, seq: a.seq, duplicate: false });
    expect(b).toEqual({ stream, seq: a.seq, duplicate: true });
    const info = await s.jsm.streams.info(stream, { subjects_filter: subject });
    expect(info.state.subjects?.[subject]).toBe(1);
    const stored = await s.jsm.streams.getMessage(stream, { seq: a.seq });
    expect(stored?.string()).toBe('one');
    expect(stored?.header.get('Nats-Msg-Id')).toBe('pg:0/16B3748:0');
  });

  it('writes custom headers and the active trace context (traceparent) into the message', async () => {
    const subject = `${s.prefix}.pub.trace`;
    const parent = trace.wrapSpanContext({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.SAMPLED });
    const ack = await context.with(trace.setSpan(context.active(), parent), () => publisher.publish(subject, utf8('x'), { msgId: 't1', headers: { 'Ms-Source': 'pg-main' } }));
    const stored = await s.jsm.streams.getMessage(stream, { seq: ack.seq });
    expect(stored?.header.get('Ms-Source')).toBe('pg-main');
    // Without an SDK the producer span is non-recording and carries its parent's ids.
    expect(stored?.header.get('traceparent')).toBe('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
  });

  it('publishes a batch pipelined with bounded in-flight, acks in input order, duplicates flagged', async () => {
    const subject = `${s.prefix}.pub.batch`;
    const msgs = Array.from({ length: 500 }, (_, i) => ({ subject, payload: utf8(`m${i}`), msgId: `b:${i}` }));
    const acks = await publisher.publishBatch(msgs, { maxInFlight: 64 });
    expect(acks).toHaveLength(500);
    expect(acks.every((a) => !a.duplicate)).toBe(true);
    for (let i = 1; i < acks.length; i++) expect(acks[i]?.seq).toBe((acks[0]?.seq ?? 0) + i);
    const again = await publisher.publishBatch(msgs.slice(0, 10));
    expect(again.every((a, i) => a.duplicate && a.seq === acks[i]?.seq)).toBe(true);
  });

  it('maps failures to typed errors: NO_STREAM, PUBLISH_REJECTED, and a batch error with the failed index', async () => {
    await expect(publisher.publish(`${s.prefix}.nowhere`, utf8('x'))).rejects.toMatchObject({ code: 'NO_STREAM' });
    await expect(publisher.publish(`${s.prefix}.pub.big`, new Uint8Array(4096))).rejects.toMatchObject({ code: 'PUBLISH_REJECTED' });
    const subject = `${s.prefix}.pub.partial`;
    const msgs = [0, 1, 2, 3].map((i) => ({ subject, payload: new Uint8Array(i === 2 ? 4096 : 8), msgId: `p:${i}` }));
    const err = await publisher.publishBatch(msgs, { maxInFlight: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BatchPublishError);
    expect(err).toMatchObject({ code: 'PUBLISH_REJECTED', failedIndex: 2 });
    expect((err as BatchPublishError).acks.filter(Boolean)).toHaveLength(2);
    await expect(publisher.publishBatch(msgs, { maxInFlight: 0 })).rejects.toBeInstanceOf(MessagingError);
  });
});
