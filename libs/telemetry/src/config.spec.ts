import { describe, expect, it } from 'vitest';
import { ConfigError } from '@merklesync/config';
import { parseTelemetryConfig, TELEMETRY_ENV_VARS } from './config.ts';
import { TelemetryConfigError, TelemetryErrorCode } from './errors.ts';

function failure(env: Record<string, string>): TelemetryConfigError {
  try {
    parseTelemetryConfig(env, 'prover');
  } catch (e) {
    if (e instanceof TelemetryConfigError) return e;
    throw e;
  }
  throw new Error(`accepted ${JSON.stringify(env)}`);
}

describe('parseTelemetryConfig', () => {
  it('is off without an endpoint, with the reason, and keeps the defaults', () => {
    const c = parseTelemetryConfig({}, 'prover');
    expect(c).toMatchObject({ enabled: false, tracesUrl: undefined, serviceName: 'prover', exportTimeoutMs: 10_000, sampler: { name: 'parentbased_always_on', ratio: 1 } });
    expect(c.batch).toEqual({ scheduleDelayMs: 5000, maxQueueSize: 2048, maxExportBatchSize: 512 });
    expect(c.disabledReason).toContain('OTEL_EXPORTER_OTLP_ENDPOINT');
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('appends /v1/traces to the base endpoint and uses the traces endpoint as is (which wins)', () => {
    expect(parseTelemetryConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318' }, 'x').tracesUrl).toBe('http://jaeger:4318/v1/traces');
    expect(parseTelemetryConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otel.example/base/' }, 'x').tracesUrl).toBe('https://otel.example/base/v1/traces');
    const both = parseTelemetryConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:9999/custom' }, 'x');
    expect(both).toMatchObject({ enabled: true, tracesUrl: 'http://b:9999/custom', disabledReason: undefined });
  });

  it('OTEL_SDK_DISABLED and OTEL_TRACES_EXPORTER=none switch it off even with an endpoint', () => {
    const ep = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318' };
    expect(parseTelemetryConfig({ ...ep, OTEL_SDK_DISABLED: 'TRUE' }, 'x')).toMatchObject({ enabled: false, disabledReason: 'OTEL_SDK_DISABLED=true', tracesUrl: undefined });
    expect(parseTelemetryConfig({ ...ep, OTEL_TRACES_EXPORTER: 'none' }, 'x')).toMatchObject({ enabled: false, disabledReason: 'OTEL_TRACES_EXPORTER=none' });
    expect(parseTelemetryConfig({ ...ep, OTEL_SDK_DISABLED: 'false', OTEL_TRACES_EXPORTER: 'otlp' }, 'x').enabled).toBe(true);
  });

  it('service.name: OTEL_SERVICE_NAME over OTEL_RESOURCE_ATTRIBUTES over the default; attributes percent-decoded', () => {
    expect(parseTelemetryConfig({ OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs' }, 'prover').serviceName).toBe('from-attrs');
    const c = parseTelemetryConfig({ OTEL_SERVICE_NAME: 'prover-eu', OTEL_RESOURCE_ATTRIBUTES: 'service.name=x, deployment.environment.name=prod ,team=a%20b%2Cc,' }, 'prover');
    expect(c.serviceName).toBe('prover-eu');
    expect(c.resourceAttributes).toEqual({ 'deployment.environment.name': 'prod', team: 'a b,c' });
  });

  it('samplers, with the ratio for the traceidratio ones', () => {
    expect(parseTelemetryConfig({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' }, 'x').sampler).toEqual({ name: 'parentbased_traceidratio', ratio: 0.25 });
    expect(parseTelemetryConfig({ OTEL_TRACES_SAMPLER: 'traceidratio' }, 'x').sampler).toEqual({ name: 'traceidratio', ratio: 1 });
    expect(parseTelemetryConfig({ OTEL_TRACES_SAMPLER: 'always_off', OTEL_TRACES_SAMPLER_ARG: 'ignored' }, 'x').sampler).toEqual({ name: 'always_off', ratio: 1 });
    expect(parseTelemetryConfig({ OTEL_TRACES_SAMPLER: 'ALWAYS_ON' }, 'x').sampler.name).toBe('always_on');
  });

  it('timeouts and batch sizes, the traces-specific timeout first', () => {
    const c = parseTelemetryConfig({ OTEL_EXPORTER_OTLP_TIMEOUT: '3000', OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '2000', OTEL_BSP_SCHEDULE_DELAY: '100', OTEL_BSP_MAX_QUEUE_SIZE: '100' }, 'x');
    expect(c.exportTimeoutMs).toBe(2000);
    expect(c.batch).toEqual({ scheduleDelayMs: 100, maxQueueSize: 100, maxExportBatchSize: 100 });
    expect(parseTelemetryConfig({ OTEL_EXPORTER_OTLP_TIMEOUT: '3000' }, 'x').exportTimeoutMs).toBe(3000);
  });

  it('rejects bad values with a typed error naming the variable', () => {
    const cases: [Record<string, string>, string][] = [
      [{ OTEL_SDK_DISABLED: 'yes' }, 'OTEL_SDK_DISABLED'],
      [{ OTEL_TRACES_EXPORTER: 'jaeger' }, 'OTEL_TRACES_EXPORTER'],
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'jaeger:4318' }, 'OTEL_EXPORTER_OTLP_ENDPOINT'],
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318/?x=1' }, 'OTEL_EXPORTER_OTLP_ENDPOINT'],
      [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'ftp://x' }, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'],
      [{ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, 'OTEL_EXPORTER_OTLP_PROTOCOL'],
      [{ OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json' }, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'],
      [{ OTEL_EXPORTER_OTLP_TIMEOUT: '0' }, 'OTEL_EXPORTER_OTLP_TIMEOUT'],
      [{ OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '1s' }, 'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT'],
      [{ OTEL_TRACES_SAMPLER: 'sometimes' }, 'OTEL_TRACES_SAMPLER'],
      [{ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '1.5' }, 'OTEL_TRACES_SAMPLER_ARG'],
      [{ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '-0.1' }, 'OTEL_TRACES_SAMPLER_ARG'],
      [{ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '1/2' }, 'OTEL_TRACES_SAMPLER_ARG'],
      [{ OTEL_RESOURCE_ATTRIBUTES: 'novalue' }, 'OTEL_RESOURCE_ATTRIBUTES'],
      [{ OTEL_RESOURCE_ATTRIBUTES: 'k=%zz' }, 'OTEL_RESOURCE_ATTRIBUTES'],
      [{ OTEL_SERVICE_NAME: 'has space' }, 'OTEL_SERVICE_NAME'],
      [{ OTEL_BSP_MAX_QUEUE_SIZE: '10', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '11' }, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE'],
      [{ OTEL_BSP_SCHEDULE_DELAY: 'soon' }, 'OTEL_BSP_SCHEDULE_DELAY'],
    ];
    for (const [env, variable] of cases) {
      const e = failure(env);
      expect(e, JSON.stringify(env)).toBeInstanceOf(ConfigError);
      expect(e.code).toBe(TelemetryErrorCode.InvalidConfig);
      expect(e.variable, JSON.stringify(env)).toBe(variable);
      expect(e.message.startsWith(`${variable}: `)).toBe(true);
    }
  });

  it('lists every variable it reads (the deploy/ test relies on the list)', () => {
    const read = new Set<string>();
    const spy = new Proxy({}, { get: (_t, k) => (typeof k === 'string' && read.add(k), undefined) });
    parseTelemetryConfig(spy, 'x');
    expect([...read].filter((v) => v.startsWith('OTEL_')).sort()).toEqual([...TELEMETRY_ENV_VARS].sort());
  });
});
