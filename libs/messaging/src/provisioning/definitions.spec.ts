import { describe, expect, it } from 'vitest';
import { Streams } from '@merklesync/protocol';
import type { MessagingError } from '../errors.ts';
import { consumerConfigOf } from './consumer-definition.ts';
import { streamConfigOf, streamDefinitionFor } from './stream-definition.ts';

describe('stream and consumer definitions', () => {
  it('translate to JetStream configs with defaults, in nanoseconds', () => {
    const s = streamConfigOf(streamDefinitionFor(Streams.changes, { maxAgeMs: 86_400_000 }));
    expect(s).toMatchObject({ name: 'MS_CHANGES', subjects: ['ms.changes.>'], storage: 'file', retention: 'limits', max_msg_size: 1048576, duplicate_window: 120e9, max_age: 86_400e9 });
    const c = consumerConfigOf({ stream: 'MS_CHANGES', name: 'merkle', filterSubjects: ['ms.changes.pg.>'], backoffMs: [1000, 5000] });
    expect(c).toMatchObject({ durable_name: 'merkle', ack_policy: 'explicit', ack_wait: 1e9, backoff: [1e9, 5e9], max_deliver: 5, filter_subject: 'ms.changes.pg.>' });
  });

  it('refuse bad values, naming the field', () => {
    const bad = (f: () => unknown, field: string) => expect(f).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG', message: expect.stringContaining(field) }) as MessagingError);
    bad(() => streamConfigOf({ name: 'a.b', subjects: ['x'] }), '.name');
    bad(() => streamConfigOf({ name: 'S', subjects: [] }), '.subjects');
    bad(() => streamConfigOf({ name: 'S', subjects: ['x'], maxAgeMs: 1000, duplicateWindowMs: 2000 }), 'duplicateWindowMs');
    bad(() => consumerConfigOf({ stream: 'S', name: 'c', backoffMs: [100], ackWaitMs: 200 }), 'ackWaitMs');
    bad(() => consumerConfigOf({ stream: 'S', name: 'c', backoffMs: [100, 200], maxDeliver: 2 }), 'maxDeliver');
    bad(() => consumerConfigOf({ stream: 'S', name: 'c', filterSubjects: ['a..b'] }), 'filterSubjects[0]');
  });
});
