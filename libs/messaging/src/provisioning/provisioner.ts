// Idempotent start-up provisioning: read what exists, create what is missing, update what may change in
// place, and refuse (typed error, before touching anything) what may not.
import { JetStreamApiCodes, JetStreamApiError, type ConsumerInfo, type JetStreamManager, type StreamInfo } from '@nats-io/jetstream';
import { MessagingError, MessagingErrorCode } from '../errors.ts';
import { consumerConfigOf, type ConsumerDefinition } from './consumer-definition.ts';
import { streamConfigOf, type StreamDefinition } from './stream-definition.ts';

/** What provisioning did to one stream or consumer. */
export type ProvisionAction = 'created' | 'updated' | 'unchanged';

export interface StreamProvisionResult {
  readonly name: string;
  readonly action: ProvisionAction;
  /** Fields that differed (for `updated`). */
  readonly changed: readonly string[];
  readonly info: StreamInfo;
}

export interface ConsumerProvisionResult {
  readonly stream: string;
  readonly name: string;
  readonly action: ProvisionAction;
  readonly changed: readonly string[];
  readonly info: ConsumerInfo;
}

// Fields that a stream or consumer cannot change after creation (the server refuses, or would need a
// re-creation that loses data / delivery state). Checked before any update is sent.
const _STREAM_IMMUTABLE = new Set(['storage', 'retention']);
const _CONSUMER_IMMUTABLE = new Set(['ack_policy', 'deliver_policy', 'replay_policy']);

function _same(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) || Array.isArray(b)) {
    const x = Array.isArray(a) ? a.map(String) : [];
    const y = Array.isArray(b) ? b.map(String) : [];
    return x.length === y.length && x.every((v, i) => v === y[i]);
  }
  return (a ?? '') === (b ?? '');
}

function _diff(wanted: Record<string, unknown>, actual: Record<string, unknown>): string[] {
  return Object.keys(wanted).filter((k) => !_same(wanted[k], actual[k]));
}

function _isNotFound(e: unknown, code: number): boolean {
  return e instanceof JetStreamApiError && e.code === code;
}

function _serverRefused(what: string, e: unknown): MessagingError {
  const detail = e instanceof Error ? e.message : String(e);
  return new MessagingError(MessagingErrorCode.ProvisioningFailed, `${what}: the server refused: ${detail}`, { cause: e });
}

/**
 * Creates the stream if absent, updates it if a mutable field differs, and does nothing if it matches.
 * Subject lists are compared in order. Running it twice is a no-op the second time.
 * @throws MessagingError(INVALID_CONFIG) for a bad definition; STREAM_CONFLICT when storage or retention
 *   differ from the existing stream's; PROVISIONING_FAILED when the server refuses (e.g. subjects overlapping
 *   another stream).
 * @example await ensureStream(jsm, { name: 'MS_CHANGES', subjects: ['ms.changes.>'] })
 */
export async function ensureStream(jsm: JetStreamManager, def: StreamDefinition): Promise<StreamProvisionResult> {
  const wanted = streamConfigOf(def);
  let existing: StreamInfo | undefined;
  try {
    existing = await jsm.streams.info(wanted.name);
  } catch (e) {
    if (!_isNotFound(e, JetStreamApiCodes.StreamNotFound)) throw _serverRefused(`stream ${wanted.name}`, e);
  }
  if (existing === undefined) {
    try {
      const info = await jsm.streams.add(wanted);
      return { name: wanted.name, action: 'created', changed: [], info };
    } catch (e) {
      throw _serverRefused(`creating stream ${wanted.name}`, e);
    }
  }
  const changed = _diff(wanted, existing.config);
  if (changed.length === 0) return { name: wanted.name, action: 'unchanged', changed, info: existing };
  const immutable = changed.filter((k) => _STREAM_IMMUTABLE.has(k));
  if (immutable.length > 0) {
    throw new MessagingError(
      MessagingErrorCode.StreamConflict,
      `stream ${wanted.name} exists with ${immutable.map((k) => `${k}=${JSON.stringify((existing.config as unknown as Record<string, unknown>)[k])}`).join(', ')}; ` +
        `wanted ${immutable.map((k) => `${k}=${JSON.stringify((wanted as Record<string, unknown>)[k])}`).join(', ')} (cannot change in place: migrate to a new stream)`,
    );
  }
  try {
    const { name: _n, storage: _s, retention: _r, ...update } = wanted;
    const info = await jsm.streams.update(wanted.name, update);
    return { name: wanted.name, action: 'updated', changed, info };
  } catch (e) {
    throw _serverRefused(`updating stream ${wanted.name} (${changed.join(', ')})`, e);
  }
}

/**
 * Creates the durable pull consumer if absent, updates it if a mutable field differs (ack wait, max deliver,
 * max ack pending, backoff, filters, description), and does nothing if it matches.
 * @throws MessagingError(INVALID_CONFIG) for a bad definition; CONSUMER_CONFLICT when the existing consumer
 *   differs in deliver/ack/replay policy or is a push consumer; PROVISIONING_FAILED when the server refuses
 *   (missing stream; changing filters on NATS < 2.10; several filters on NATS < 2.10).
 * @example await ensureConsumer(jsm, { stream: 'MS_CHANGES', name: 'merkle', maxDeliver: 5 })
 */
export async function ensureConsumer(jsm: JetStreamManager, def: ConsumerDefinition): Promise<ConsumerProvisionResult> {
  const wanted = consumerConfigOf(def);
  const id = `consumer ${def.stream}/${def.name}`;
  let existing: ConsumerInfo | undefined;
  try {
    existing = await jsm.consumers.info(def.stream, def.name);
  } catch (e) {
    if (!_isNotFound(e, JetStreamApiCodes.ConsumerNotFound)) throw _serverRefused(id, e);
  }
  if (existing === undefined) {
    try {
      const info = await jsm.consumers.add(def.stream, wanted);
      return { stream: def.stream, name: def.name, action: 'created', changed: [], info };
    } catch (e) {
      throw _serverRefused(`creating ${id}`, e);
    }
  }
  const actual = { ...existing.config } as unknown as Record<string, unknown>;
  if (typeof actual.deliver_subject === 'string' && actual.deliver_subject !== '') {
    throw new MessagingError(MessagingErrorCode.ConsumerConflict, `${id} exists as a push consumer; a pull consumer is wanted`);
  }
  // A single filter may come back in either field depending on the server version; compare one list.
  const filtersOf = (c: Record<string, unknown>): string[] =>
    Array.isArray(c.filter_subjects) && c.filter_subjects.length > 0 ? (c.filter_subjects as string[]) : typeof c.filter_subject === 'string' && c.filter_subject !== '' ? [c.filter_subject] : [];
  const { filter_subject: _fs, filter_subjects: _fss, ...rest } = wanted;
  const changed = _diff(rest, actual);
  // The server omits an unset backoff; an empty wanted backoff matches that.
  if (wanted.backoff === undefined && Array.isArray(actual.backoff) && actual.backoff.length > 0) changed.push('backoff');
  const wantedFilters = filtersOf(wanted);
  if (!_same(wantedFilters, filtersOf(actual))) changed.push('filter_subjects');
  if (changed.length === 0) return { stream: def.stream, name: def.name, action: 'unchanged', changed, info: existing };
  const immutable = changed.filter((k) => _CONSUMER_IMMUTABLE.has(k));
  if (immutable.length > 0) {
    throw new MessagingError(
      MessagingErrorCode.ConsumerConflict,
      `${id} exists with ${immutable.map((k) => `${k}=${JSON.stringify(actual[k])}`).join(', ')}; wanted ${immutable
        .map((k) => `${k}=${JSON.stringify((wanted as Record<string, unknown>)[k])}`)
        .join(', ')} (cannot change in place: use a new durable name)`,
    );
  }
  try {
    const { durable_name: _d, ack_policy: _a, deliver_policy: _p, replay_policy: _r, ...update } = wanted;
    // Clearing a filter or backoff must be sent explicitly, or the server keeps the old value.
    const body: Record<string, unknown> = { ...update };
    // filter_subjects is only sent when in use: servers before 2.10 (and the client for them) reject it.
    if (wantedFilters.length !== 1) body.filter_subject = '';
    if (wantedFilters.length <= 1 && Array.isArray(actual.filter_subjects) && actual.filter_subjects.length > 0) body.filter_subjects = [];
    if (wanted.backoff === undefined && changed.includes('backoff')) body.backoff = [];
    const info = await jsm.consumers.update(def.stream, def.name, body);
    return { stream: def.stream, name: def.name, action: 'updated', changed, info };
  } catch (e) {
    throw _serverRefused(`updating ${id} (${changed.join(', ')})`, e);
  }
}

/**
 * Provisions streams first, then consumers, in order; stops at the first failure (fail fast at start-up).
 * @throws MessagingError as {@link ensureStream} / {@link ensureConsumer}.
 * @example await provision(jsm, { streams: [changes, dlq], consumers: [merkleConsumer] })
 */
export async function provision(
  jsm: JetStreamManager,
  spec: { readonly streams?: readonly StreamDefinition[]; readonly consumers?: readonly ConsumerDefinition[] },
): Promise<{ streams: StreamProvisionResult[]; consumers: ConsumerProvisionResult[] }> {
  const streams: StreamProvisionResult[] = [];
  for (const s of spec.streams ?? []) streams.push(await ensureStream(jsm, s));
  const consumers: ConsumerProvisionResult[] = [];
  for (const c of spec.consumers ?? []) consumers.push(await ensureConsumer(jsm, c));
  return { streams, consumers };
}
