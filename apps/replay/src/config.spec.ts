import { describe, expect, it } from 'vitest';
import { ConfigError, parseReplayConfig } from './config.ts';

const base = { REPLAY_KEY_FILE: '/k', REPLAY_KEY_ID: 'k1' };

describe('parseReplayConfig', () => {
  it('applies defaults', () => {
    const c = parseReplayConfig(base);
    expect(c.workers).toBe(4);
    expect(c.commitments).toEqual({ stream: 'MS_PROXY_COMMITMENTS', subject: 'ms.proxy.commitments', consumer: 'replay', replicas: 1 });
    expect(c.results.schema).toBe('merklesync_replay');
  });

  it('names the bad variable', () => {
    expect(() => parseReplayConfig({ ...base, REPLAY_WORKERS: '0' })).toThrow(/REPLAY_WORKERS/);
    expect(() => parseReplayConfig({ ...base, REPLAY_DB_PREFIX: 'Bad-Name' })).toThrow(ConfigError);
    expect(() => parseReplayConfig({ ...base, REPLAY_VERIFICATION_URL: 'mysql://x' })).toThrow(/REPLAY_VERIFICATION_URL/);
    expect(() => parseReplayConfig({ REPLAY_KEY_ID: 'k1' })).toThrow(/REPLAY_KEY_FILE/);
    expect(() => parseReplayConfig({ ...base, REPLAY_HASH_SUITE: 'md5' })).toThrow(/REPLAY_HASH_SUITE/);
    expect(() => parseReplayConfig({ ...base, REPLAY_INSTANCE_ID: 'Bad Pod' })).toThrow(/REPLAY_INSTANCE_ID/);
    expect(parseReplayConfig({ ...base, REPLAY_INSTANCE_ID: 'replay-7d9f8-x2k4q' }).instanceId).toBe('replay-7d9f8-x2k4q');
  });
});
