import { describe, expect, it } from 'vitest';
import { ConfigError, parseProverConfig } from './config.ts';

describe('parseProverConfig', () => {
  it('applies the defaults', () => {
    const c = parseProverConfig({});
    expect(c).toMatchObject({ subjectPrefix: 'ms.prover', queueGroup: 'prover', suite: 'sha256', logId: 'global' });
    expect(c.nats.servers).toEqual(['127.0.0.1:4222']);
    expect(Object.isFrozen(c)).toBe(true);
  });

  it.each([
    ['PROVER_DATABASE_URL', 'mysql://x'],
    ['PROVER_DB_SCHEMA', 'Bad-Schema'],
    ['PROVER_HASH_SUITE', 'md5'],
    ['PROVER_SUBJECT_PREFIX', 'ms.>'],
    ['PROVER_SUBJECT_PREFIX', 'ms..prover'],
    ['PROVER_QUEUE_GROUP', 'a b'],
    ['PROVER_MAX_IN_FLIGHT', '0'],
    ['PROVER_CACHE_MAX_ENTRIES', '12x'],
    ['PROVER_NATS_SERVERS', ' , '],
  ])('names the bad variable %s=%s', (name, value) => {
    expect(() => parseProverConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => parseProverConfig({ [name]: value })).toThrow(name);
  });
});
