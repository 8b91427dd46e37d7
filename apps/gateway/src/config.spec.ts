import { describe, expect, it } from 'vitest';
import { ConfigError, parseGatewayConfig } from './config.ts';

describe('parseGatewayConfig', () => {
  it('has working defaults', () => {
    const c = parseGatewayConfig({});
    expect(c.http.port).toBe(8080);
    expect(c.grpc.port).toBe(8081);
    expect(c.proverPrefix).toBe('ms.prover');
    expect(c.nats.servers).toEqual(['127.0.0.1:4222']);
  });

  it.each([
    ['GATEWAY_HTTP_PORT', '70000'],
    ['GATEWAY_GRPC_PORT', '8080'],
    ['GATEWAY_DATABASE_URL', 'mysql://x'],
    ['GATEWAY_DB_SCHEMA', 'Bad-Schema'],
    ['GATEWAY_HASH_SUITE', 'md5'],
    ['GATEWAY_PROVER_PREFIX', 'ms.*'],
    ['GATEWAY_PROVER_TIMEOUT_MS', '-1'],
    ['GATEWAY_NATS_SERVERS', ' , '],
  ])('%s=%s fails naming the variable', (name, value) => {
    expect(() => parseGatewayConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => parseGatewayConfig({ [name]: value })).toThrow(name);
  });
});
