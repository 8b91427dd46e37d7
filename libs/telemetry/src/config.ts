// The standard OpenTelemetry SDK variables this library honours, validated into a typed, frozen object. Pure:
// the caller passes the environment (main.ts hands in process.env once). Names and semantics follow the
// OpenTelemetry specification ("SDK environment variables" and "OTLP exporter configuration"); anything this
// library does not support is refused with an error naming the variable instead of being silently ignored.
import type { Env } from '@merklesync/config';
import { TelemetryConfigError } from './errors.ts';

/** Samplers of OTEL_TRACES_SAMPLER that are supported. */
export const SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const;
export type SamplerName = (typeof SAMPLERS)[number];

/** Validated telemetry configuration. */
export interface TelemetryConfig {
  /**
   * Whether spans are recorded and exported. False when OTEL_SDK_DISABLED=true, OTEL_TRACES_EXPORTER=none or
   * no endpoint is set; trace context still propagates then.
   */
  readonly enabled: boolean;
  /** Why tracing is off (for the start-up log line); undefined when enabled. */
  readonly disabledReason: string | undefined;
  /** `service.name` of the resource. */
  readonly serviceName: string;
  /** The full OTLP/HTTP traces URL (…/v1/traces), when enabled. */
  readonly tracesUrl: string | undefined;
  /** Most time one export may take (OTEL_EXPORTER_OTLP[_TRACES]_TIMEOUT), ms. */
  readonly exportTimeoutMs: number;
  readonly sampler: { readonly name: SamplerName; readonly ratio: number };
  /** Batch span processor (OTEL_BSP_*). */
  readonly batch: { readonly scheduleDelayMs: number; readonly maxQueueSize: number; readonly maxExportBatchSize: number };
  /** OTEL_RESOURCE_ATTRIBUTES, decoded (service.name resolved into {@link serviceName}). */
  readonly resourceAttributes: Readonly<Record<string, string>>;
}

/** Every variable read, for documentation and the deploy/ consistency test. */
export const TELEMETRY_ENV_VARS = [
  'OTEL_SDK_DISABLED',
  'OTEL_SERVICE_NAME',
  'OTEL_RESOURCE_ATTRIBUTES',
  'OTEL_TRACES_EXPORTER',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT',
  'OTEL_EXPORTER_OTLP_PROTOCOL',
  'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL',
  'OTEL_EXPORTER_OTLP_TIMEOUT',
  'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT',
  'OTEL_TRACES_SAMPLER',
  'OTEL_TRACES_SAMPLER_ARG',
  'OTEL_BSP_SCHEDULE_DELAY',
  'OTEL_BSP_MAX_QUEUE_SIZE',
  'OTEL_BSP_MAX_EXPORT_BATCH_SIZE',
] as const;
type Var = (typeof TELEMETRY_ENV_VARS)[number];

const _SERVICE_NAME = /^[A-Za-z0-9_.:/-]{1,255}$/;

function _get(env: Env, name: Var): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

/** The first of the signal-specific and the general variable that is set. */
function _either(env: Env, specific: Var, general: Var): { name: Var; value: string } | undefined {
  const s = _get(env, specific);
  if (s !== undefined) return { name: specific, value: s };
  const g = _get(env, general);
  return g === undefined ? undefined : { name: general, value: g };
}

function _int(env: Env, name: Var, fallback: number, min: number, max: number): number {
  const raw = _get(env, name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < min || n > max) throw new TelemetryConfigError(name, `must be an integer in [${min}, ${max}], got ${JSON.stringify(raw)}`);
  return n;
}

function _url(name: Var, raw: string): URL {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new TelemetryConfigError(name, `must be an http:// or https:// URL, got ${JSON.stringify(raw)}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new TelemetryConfigError(name, `must be an http:// or https:// URL, got ${JSON.stringify(raw)}`);
  return u;
}

/** The traces URL: a signal-specific endpoint is used as is; the general one is a base that gets `v1/traces`. */
function _tracesUrl(env: Env): string | undefined {
  const specific = _get(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  if (specific !== undefined) return _url('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', specific).href;
  const base = _get(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  if (base === undefined) return undefined;
  const u = _url('OTEL_EXPORTER_OTLP_ENDPOINT', base);
  if (u.search !== '' || u.hash !== '') throw new TelemetryConfigError('OTEL_EXPORTER_OTLP_ENDPOINT', 'must be a base URL without query or fragment (the exporter appends /v1/traces)');
  u.pathname = `${u.pathname.replace(/\/+$/, '')}/v1/traces`;
  return u.href;
}

/** `key=value` pairs separated by commas, values percent-encoded (W3C Baggage octets). */
function _resourceAttributes(env: Env): Record<string, string> {
  const raw = _get(env, 'OTEL_RESOURCE_ATTRIBUTES');
  const out: Record<string, string> = {};
  if (raw === undefined) return out;
  for (const part of raw.split(',')) {
    if (part.trim() === '') continue;
    const i = part.indexOf('=');
    const key = i < 0 ? '' : part.slice(0, i).trim();
    if (key === '' || !/^[\x21-\x7e]+$/.test(key)) throw new TelemetryConfigError('OTEL_RESOURCE_ATTRIBUTES', `entries must be key=value, got ${JSON.stringify(part.trim())}`);
    let value: string;
    try {
      value = decodeURIComponent(part.slice(i + 1).trim());
    } catch {
      throw new TelemetryConfigError('OTEL_RESOURCE_ATTRIBUTES', `the value of ${key} is not valid percent-encoding`);
    }
    out[key] = value;
  }
  return out;
}

function _isSampler(v: string): v is SamplerName {
  return (SAMPLERS as readonly string[]).includes(v);
}

/**
 * Validates the OTEL_* variables of `env`. `serviceName` is the default `service.name`; OTEL_SERVICE_NAME
 * overrides it, then a `service.name` in OTEL_RESOURCE_ATTRIBUTES (the specification's precedence).
 * Tracing is enabled only when an endpoint is set (there is no implicit localhost default: a service in a pod
 * must not spray export attempts at itself).
 * @throws TelemetryConfigError naming the first bad variable.
 * @example parseTelemetryConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318' }, 'prover').tracesUrl // 'http://jaeger:4318/v1/traces'
 */
export function parseTelemetryConfig(env: Env, serviceName: string): TelemetryConfig {
  const disabledRaw = (_get(env, 'OTEL_SDK_DISABLED') ?? 'false').toLowerCase();
  if (disabledRaw !== 'true' && disabledRaw !== 'false') throw new TelemetryConfigError('OTEL_SDK_DISABLED', `must be true or false, got ${JSON.stringify(disabledRaw)}`);

  const exporter = (_get(env, 'OTEL_TRACES_EXPORTER') ?? 'otlp').toLowerCase();
  if (exporter !== 'otlp' && exporter !== 'none') throw new TelemetryConfigError('OTEL_TRACES_EXPORTER', `must be otlp or none, got ${JSON.stringify(exporter)}`);

  const protocol = _either(env, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'OTEL_EXPORTER_OTLP_PROTOCOL');
  if (protocol !== undefined && protocol.value !== 'http/protobuf') throw new TelemetryConfigError(protocol.name, `only http/protobuf is supported (OTLP over HTTP, port 4318), got ${JSON.stringify(protocol.value)}`);

  const tracesUrl = _tracesUrl(env);
  const timeoutVar = _get(env, 'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT') !== undefined ? 'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT' : 'OTEL_EXPORTER_OTLP_TIMEOUT';
  const exportTimeoutMs = _int(env, timeoutVar, 10_000, 1, 600_000);

  const samplerRaw = (_get(env, 'OTEL_TRACES_SAMPLER') ?? 'parentbased_always_on').toLowerCase();
  if (!_isSampler(samplerRaw)) throw new TelemetryConfigError('OTEL_TRACES_SAMPLER', `must be one of ${SAMPLERS.join(', ')}, got ${JSON.stringify(samplerRaw)}`);
  let ratio = 1;
  const argRaw = _get(env, 'OTEL_TRACES_SAMPLER_ARG');
  if (argRaw !== undefined && samplerRaw.endsWith('traceidratio')) {
    ratio = Number(argRaw);
    if (!/^[0-9.]+$/.test(argRaw) || !Number.isFinite(ratio) || ratio < 0 || ratio > 1) throw new TelemetryConfigError('OTEL_TRACES_SAMPLER_ARG', `must be a number in [0, 1], got ${JSON.stringify(argRaw)}`);
  }

  const maxQueueSize = _int(env, 'OTEL_BSP_MAX_QUEUE_SIZE', 2048, 1, 1 << 20);
  const maxExportBatchSize = _int(env, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', Math.min(512, maxQueueSize), 1, 1 << 20);
  if (maxExportBatchSize > maxQueueSize) throw new TelemetryConfigError('OTEL_BSP_MAX_EXPORT_BATCH_SIZE', `must not exceed OTEL_BSP_MAX_QUEUE_SIZE (${maxQueueSize})`);
  const batch = Object.freeze({ scheduleDelayMs: _int(env, 'OTEL_BSP_SCHEDULE_DELAY', 5000, 0, 3_600_000), maxQueueSize, maxExportBatchSize });

  const resourceAttributes = _resourceAttributes(env);
  const name = _get(env, 'OTEL_SERVICE_NAME') ?? resourceAttributes['service.name'] ?? serviceName;
  const nameVar = _get(env, 'OTEL_SERVICE_NAME') !== undefined ? 'OTEL_SERVICE_NAME' : 'OTEL_RESOURCE_ATTRIBUTES';
  if (!_SERVICE_NAME.test(name)) throw new TelemetryConfigError(nameVar, `service.name must be 1-255 characters of [A-Za-z0-9_.:/-], got ${JSON.stringify(name)}`);
  delete resourceAttributes['service.name'];

  let disabledReason: string | undefined;
  if (disabledRaw === 'true') disabledReason = 'OTEL_SDK_DISABLED=true';
  else if (exporter === 'none') disabledReason = 'OTEL_TRACES_EXPORTER=none';
  else if (tracesUrl === undefined) disabledReason = 'neither OTEL_EXPORTER_OTLP_ENDPOINT nor OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set';
  const enabled = disabledReason === undefined;
  return Object.freeze({
    enabled,
    disabledReason,
    serviceName: name,
    tracesUrl: enabled ? tracesUrl : undefined,
    exportTimeoutMs,
    sampler: Object.freeze({ name: samplerRaw, ratio }),
    batch,
    resourceAttributes: Object.freeze(resourceAttributes),
  });
}
