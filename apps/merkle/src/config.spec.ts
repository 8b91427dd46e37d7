import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';
import { MerkleServiceError } from './errors.ts';

const env = { MERKLE_DATABASE_URL: 'postgres://postgres@127.0.0.1/db', MERKLE_CHECKPOINT_KEY_FILE: '/keys/log.key' };

describe('loadConfig', () => {
  it('fills the defaults', () => {
    const c = loadConfig(env);
    expect(c.bus).toMatchObject({ subjectPrefix: 'ms', changesStream: 'MS_CHANGES', changesFilter: 'ms.changes.>', consumer: 'merkle', maxDeliver: -1, maxInFlight: 64, groupMaxChanges: 20_000, streamReplicas: 1 });
    expect(c.checkpoint).toMatchObject({ logId: 'global', everyChanges: 10_000, everyMs: 5_000, origin: undefined });
    expect(c.hashSuite).toBe('sha256');
    expect(c.nats.servers).toEqual(['127.0.0.1:4222']);
  });

  it('keeps one message in flight when max-deliver is set', () => {
    expect(loadConfig({ ...env, MERKLE_MAX_DELIVER: '5' }).bus.maxInFlight).toBe(1);
  });

  it('takes the stream replica count (a JetStream cluster wants 3)', () => {
    expect(loadConfig({ ...env, MERKLE_STREAM_REPLICAS: '3' }).bus.streamReplicas).toBe(3);
  });

  it('writes map nodes on one parallel connection unless the pool has only one', () => {
    expect(loadConfig(env).database).toMatchObject({ poolMax: 4, nodeWriters: 1 });
    expect(loadConfig({ ...env, MERKLE_DB_POOL_MAX: '1' }).database.nodeWriters).toBe(0);
    expect(loadConfig({ ...env, MERKLE_NODE_WRITERS: '0' }).database.nodeWriters).toBe(0);
    expect(() => loadConfig({ ...env, MERKLE_DB_POOL_MAX: '2', MERKLE_NODE_WRITERS: '2' })).toThrow(/MERKLE_NODE_WRITERS/);
  });

  it('counts external memory toward the heap limit unless told not to', () => {
    expect(loadConfig(env).gcCountExternal).toBe(true);
    expect(loadConfig({ ...env, MERKLE_GC_COUNT_EXTERNAL: 'false' }).gcCountExternal).toBe(false);
    expect(loadConfig({ ...env, MERKLE_GC_COUNT_EXTERNAL: ' 0 ' }).gcCountExternal).toBe(false);
    expect(loadConfig({ ...env, MERKLE_GC_COUNT_EXTERNAL: 'TRUE' }).gcCountExternal).toBe(true);
  });

  it('derives the filter from the prefix', () => {
    expect(loadConfig({ ...env, MERKLE_SUBJECT_PREFIX: 't1' }).bus.changesFilter).toBe('t1.changes.>');
  });

  it.each([
    [{ MERKLE_DATABASE_URL: undefined }, 'MERKLE_DATABASE_URL'],
    [{ MERKLE_DATABASE_URL: 'mysql://x' }, 'MERKLE_DATABASE_URL'],
    [{ MERKLE_CHECKPOINT_KEY_FILE: '' }, 'MERKLE_CHECKPOINT_KEY_FILE'],
    [{ MERKLE_HASH_SUITE: 'md5' }, 'MERKLE_HASH_SUITE'],
    [{ MERKLE_CHECKPOINT_EVERY_CHANGES: '0' }, 'MERKLE_CHECKPOINT_EVERY_CHANGES'],
    [{ MERKLE_CHECKPOINT_EVERY_MS: 'soon' }, 'MERKLE_CHECKPOINT_EVERY_MS'],
    [{ MERKLE_MAX_DELIVER: '1' }, 'MERKLE_MAX_DELIVER'],
    [{ MERKLE_SUBJECT_PREFIX: 'a.b' }, 'MERKLE_SUBJECT_PREFIX'],
    [{ MERKLE_CHANGES_FILTER: 'other.>' }, 'MERKLE_CHANGES_FILTER'],
    [{ MERKLE_DB_SCHEMA: 'Bad-Name' }, 'MERKLE_DB_SCHEMA'],
    [{ MERKLE_MAX_IN_FLIGHT: '0' }, 'MERKLE_MAX_IN_FLIGHT'],
    [{ MERKLE_STREAM_REPLICAS: '0' }, 'MERKLE_STREAM_REPLICAS'],
    [{ MERKLE_STREAM_REPLICAS: '7' }, 'MERKLE_STREAM_REPLICAS'],
    [{ MERKLE_MAX_DELIVER: '5', MERKLE_MAX_IN_FLIGHT: '4' }, 'MERKLE_MAX_IN_FLIGHT'],
    [{ MERKLE_GC_COUNT_EXTERNAL: 'yes' }, 'MERKLE_GC_COUNT_EXTERNAL'],
  ])('names the bad variable %o', (patch, name) => {
    expect(() => loadConfig({ ...env, ...patch })).toThrow(MerkleServiceError);
    expect(() => loadConfig({ ...env, ...patch })).toThrow(name);
  });
});
