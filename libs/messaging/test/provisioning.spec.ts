// Provisioning against the real JetStream: idempotent, updates in place, refuses incompatible changes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureConsumer, ensureStream, MessagingError, provision } from '../src/index.ts';
import { openScope, type TestScope } from './support/nats.ts';

let s: TestScope;
beforeAll(async () => {
  s = await openScope();
});
afterAll(async () => {
  await s.cleanup();
});

describe('ensureStream', () => {
  it('creates once, then is a no-op, then updates changed limits in place', async () => {
    const def = { name: `${s.streamPrefix}_P1`, subjects: [`${s.prefix}.p1.>`], duplicateWindowMs: 60_000, maxMsgSize: 4096 };
    const first = await ensureStream(s.jsm, def);
    expect(first.action).toBe('created');
    const again = await ensureStream(s.jsm, def);
    expect(again).toMatchObject({ action: 'unchanged', changed: [] });
    expect(again.info.config).toMatchObject({ max_msg_size: 4096, duplicate_window: 60e9, storage: 'file', retention: 'limits' });

    const updated = await ensureStream(s.jsm, { ...def, maxMsgSize: 8192, duplicateWindowMs: 30_000, subjects: [`${s.prefix}.p1.>`, `${s.prefix}.p1b`] });
    expect(updated.action).toBe('updated');
    expect([...updated.changed].sort()).toEqual(['duplicate_window', 'max_msg_size', 'subjects']);
    const info = await s.jsm.streams.info(def.name);
    expect(info.config).toMatchObject({ max_msg_size: 8192, duplicate_window: 30e9, subjects: [`${s.prefix}.p1.>`, `${s.prefix}.p1b`] });
    expect((await ensureStream(s.jsm, { ...def, maxMsgSize: 8192, duplicateWindowMs: 30_000, subjects: [`${s.prefix}.p1.>`, `${s.prefix}.p1b`] })).action).toBe('unchanged');
  });

  it('refuses a storage or retention change with STREAM_CONFLICT and leaves the stream alone', async () => {
    const def = { name: `${s.streamPrefix}_P2`, subjects: [`${s.prefix}.p2.>`] };
    await ensureStream(s.jsm, def);
    await expect(ensureStream(s.jsm, { ...def, storage: 'memory' })).rejects.toMatchObject({ code: 'STREAM_CONFLICT', message: expect.stringContaining('storage') });
    await expect(ensureStream(s.jsm, { ...def, retention: 'workqueue' })).rejects.toBeInstanceOf(MessagingError);
    expect((await s.jsm.streams.info(def.name)).config.storage).toBe('file');
  });

  it('reports a server refusal (overlapping subjects) as PROVISIONING_FAILED', async () => {
    await ensureStream(s.jsm, { name: `${s.streamPrefix}_P3`, subjects: [`${s.prefix}.p3.>`] });
    await expect(ensureStream(s.jsm, { name: `${s.streamPrefix}_P3B`, subjects: [`${s.prefix}.p3.x`] })).rejects.toMatchObject({ code: 'PROVISIONING_FAILED' });
  });
});

describe('ensureConsumer', () => {
  it('creates a durable pull consumer once, is a no-op the second time, and updates mutable fields', async () => {
    const stream = `${s.streamPrefix}_C1`;
    const def = { stream, name: 'worker', filterSubjects: [`${s.prefix}.c1.a.>`], ackWaitMs: 5_000, maxDeliver: 4, maxAckPending: 50 };
    const out = await provision(s.jsm, { streams: [{ name: stream, subjects: [`${s.prefix}.c1.>`] }], consumers: [def] });
    expect(out.consumers[0]?.action).toBe('created');
    expect(out.consumers[0]?.info.config).toMatchObject({ durable_name: 'worker', ack_policy: 'explicit', ack_wait: 5e9, max_deliver: 4, max_ack_pending: 50, filter_subject: `${s.prefix}.c1.a.>` });
    expect((await ensureConsumer(s.jsm, def)).action).toBe('unchanged');

    const changed = await ensureConsumer(s.jsm, { ...def, maxDeliver: 6, maxAckPending: 10, backoffMs: [1_000, 2_000], ackWaitMs: 1_000 });
    expect(changed.action).toBe('updated');
    expect([...changed.changed].sort()).toEqual(['ack_wait', 'backoff', 'max_ack_pending', 'max_deliver']);
    const info = await s.jsm.consumers.info(stream, 'worker');
    expect(info.config).toMatchObject({ max_deliver: 6, max_ack_pending: 10, ack_wait: 1e9, backoff: [1e9, 2e9] });
    expect((await ensureConsumer(s.jsm, { ...def, maxDeliver: 6, maxAckPending: 10, backoffMs: [1_000, 2_000], ackWaitMs: undefined })).action).toBe('unchanged');

    // Dropping the backoff list again is sent explicitly.
    const dropped = await ensureConsumer(s.jsm, def);
    expect(dropped.action).toBe('updated');
    expect((await s.jsm.consumers.info(stream, 'worker')).config.backoff ?? []).toEqual([]);
    expect((await ensureConsumer(s.jsm, def)).action).toBe('unchanged');
  });

  it('refuses a deliver-policy change with CONSUMER_CONFLICT, and a missing stream with PROVISIONING_FAILED', async () => {
    const stream = `${s.streamPrefix}_C2`;
    await ensureStream(s.jsm, { name: stream, subjects: [`${s.prefix}.c2.>`] });
    await ensureConsumer(s.jsm, { stream, name: 'w' });
    await expect(ensureConsumer(s.jsm, { stream, name: 'w', deliverPolicy: 'new' })).rejects.toMatchObject({ code: 'CONSUMER_CONFLICT' });
    await expect(ensureConsumer(s.jsm, { stream: `${s.streamPrefix}_NONE`, name: 'w' })).rejects.toMatchObject({ code: 'PROVISIONING_FAILED' });
  });
});
