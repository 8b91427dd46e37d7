import { describe, expect, it } from 'vitest';
import { ConfigError, parseProxyConfig } from './config.ts';

describe('parseProxyConfig', () => {
  it('applies defaults and needs keys only with capture on', () => {
    const off = parseProxyConfig({ PROXY_CAPTURE: 'off' });
    expect(off.listen).toEqual({ host: '127.0.0.1', port: 6432 });
    expect(off.capture).toBe(false);
    expect(() => parseProxyConfig({})).toThrow(/PROXY_KEY_FILE/);
    expect(parseProxyConfig({ PROXY_KEY_FILE: '/k', PROXY_KEY_ID: 'k1' }).stream.subject).toBe('ms.proxy.commitments');
  });

  it('names the bad variable', () => {
    expect(() => parseProxyConfig({ PROXY_CAPTURE: 'maybe' })).toThrow(ConfigError);
    expect(() => parseProxyConfig({ PROXY_CAPTURE: 'off', PROXY_BACKEND_PORT: '0' })).toThrow(/PROXY_BACKEND_PORT/);
    expect(() => parseProxyConfig({ PROXY_CAPTURE: 'off', PROXY_COMMITMENTS_SUBJECT: 'a.>' })).toThrow(/PROXY_COMMITMENTS_SUBJECT/);
    expect(() => parseProxyConfig({ PROXY_CAPTURE: 'off', PROXY_SOURCE_ID: 'a b' })).toThrow(/PROXY_SOURCE_ID/);
  });
});
