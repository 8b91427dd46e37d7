// JetStream subject and stream naming. Names from sources (source ids, table names) become subject tokens
// through a reversible, canonical escaping, so every subject maps back to exactly one (source, table).
import { ProtocolError, ProtocolErrorCode } from './errors.ts';
import { EventLimits } from './events/limits.ts';

/** First token of every MerkleSync subject. */
export const SUBJECT_PREFIX = 'ms';

const _encoder = new TextEncoder();
const _decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const _HEX = '0123456789ABCDEF';

// Characters that stand for themselves: ASCII letters, digits, '-' and '_'. Everything else (including the
// escape '~' itself, '.', '*', '>', whitespace, '$', non-ASCII) is written as '~' + two upper-case hex
// digits per UTF-8 byte. The set is small on purpose: such tokens are valid in NATS subjects, in JetStream
// consumer filter subjects and in every NATS client, and they never start with '$' (system subjects).
function _plain(byte: number): boolean {
  return (
    (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a) || byte === 0x2d || byte === 0x5f
  );
}

function _hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x41 + 10;
  return -1; // lower-case hex is not canonical
}

function _badToken(token: string, why: string): never {
  throw new ProtocolError(ProtocolErrorCode.InvalidSubject, `subject token ${JSON.stringify(token)}: ${why}`);
}

/**
 * Encodes a source, table or stream name as one subject token (see the README's "Subjects" section):
 * `[A-Za-z0-9_-]` stay, every other UTF-8 byte becomes `~HH` (upper-case hex). `public.users` →
 * `public~2Eusers`.
 * @throws TypeError when `name` is not a string; RangeError when it is empty, longer than 255 UTF-8 bytes,
 *   or contains a lone surrogate (which has no UTF-8 form and would collide with U+FFFD).
 * @example subjectToken('public.users') // 'public~2Eusers'
 */
export function subjectToken(name: string): string {
  if (typeof name !== 'string') throw new TypeError('name must be a string');
  if (name.length === 0) throw new RangeError('name must not be empty');
  // A lone surrogate is the only code point of category Cs a well-formed string can yield under /u.
  if (/\p{Cs}/u.test(name)) throw new RangeError('name must not contain lone surrogates');
  const bytes = _encoder.encode(name);
  if (bytes.length > EventLimits.maxNameBytes) throw new RangeError(`name must be at most ${EventLimits.maxNameBytes} UTF-8 bytes`);
  let out = '';
  for (const b of bytes) out += _plain(b) ? String.fromCharCode(b) : `~${_HEX[b >> 4]}${_HEX[b & 15]}`;
  return out;
}

/**
 * Decodes a subject token back to the name; accepts only the canonical form {@link subjectToken} produces
 * (so each name has exactly one token and each token one name).
 * @throws TypeError when `token` is not a string; ProtocolError(INVALID_SUBJECT) for an empty token, a
 *   character outside the encoding, a bad or lower-case escape, an escape of a plain character, or bytes
 *   that are not UTF-8.
 * @example subjectTokenToName('public~2Eusers') // 'public.users'
 */
export function subjectTokenToName(token: string): string {
  if (typeof token !== 'string') throw new TypeError('token must be a string');
  if (token.length === 0) _badToken(token, 'empty');
  const bytes: number[] = [];
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (c === 0x7e) {
      const hi = _hexValue(token.charCodeAt(i + 1));
      const lo = _hexValue(token.charCodeAt(i + 2));
      if (hi < 0 || lo < 0) _badToken(token, `bad escape at ${i} (needs ~ and two upper-case hex digits)`);
      const b = hi * 16 + lo;
      if (_plain(b)) _badToken(token, `escape of a plain character at ${i}`);
      bytes.push(b);
      i += 2;
    } else if (c < 0x80 && _plain(c)) {
      bytes.push(c);
    } else {
      _badToken(token, `character ${JSON.stringify(token[i])} at ${i} must be escaped`);
    }
  }
  if (bytes.length > EventLimits.maxNameBytes) _badToken(token, `name longer than ${EventLimits.maxNameBytes} bytes`);
  try {
    return _decoder.decode(new Uint8Array(bytes));
  } catch {
    return _badToken(token, 'escapes are not UTF-8');
  }
}

/** The subject families. `changes`, `blocks` and `roots` are partitioned by source and table. */
export const SubjectKind = {
  Changes: 'changes',
  Blocks: 'blocks',
  Roots: 'roots',
  Checkpoints: 'checkpoints',
  ProxyCommitments: 'proxy-commitments',
  ReplayResults: 'replay-results',
  DeadLetter: 'dlq',
} as const;
export type SubjectKind = (typeof SubjectKind)[keyof typeof SubjectKind];

/** A subject taken apart by {@link parseSubject}. */
export type ParsedSubject =
  | { readonly kind: 'changes' | 'blocks' | 'roots'; readonly source: string; readonly table: string }
  | { readonly kind: 'checkpoints' | 'proxy-commitments' | 'replay-results' }
  | { readonly kind: 'dlq'; readonly stream: string };

/**
 * `ms.changes.<source>.<table>`: ChangeBatch messages of one table (ingest → merkle).
 * @throws TypeError / RangeError as {@link subjectToken}.
 * @example changesSubject('pg-main', 'public.users') // 'ms.changes.pg-main.public~2Eusers'
 */
export function changesSubject(source: string, table: string): string {
  return `${SUBJECT_PREFIX}.changes.${subjectToken(source)}.${subjectToken(table)}`;
}

/**
 * `ms.blocks.<source>.<table>`: DataBlockEvent messages of one table (merkle → gateway / edge fan-out).
 * @throws TypeError / RangeError as {@link subjectToken}.
 * @example blocksSubject('pg-main', 'public.users')
 */
export function blocksSubject(source: string, table: string): string {
  return `${SUBJECT_PREFIX}.blocks.${subjectToken(source)}.${subjectToken(table)}`;
}

/**
 * `ms.roots.<source>.<table>`: RootUpdate messages of one table.
 * @throws TypeError / RangeError as {@link subjectToken}.
 * @example rootsSubject('pg-main', 'public.users')
 */
export function rootsSubject(source: string, table: string): string {
  return `${SUBJECT_PREFIX}.roots.${subjectToken(source)}.${subjectToken(table)}`;
}

/** `ms.checkpoints`: CheckpointEvent messages. */
export const CHECKPOINTS_SUBJECT = `${SUBJECT_PREFIX}.checkpoints`;
/** `ms.proxy.commitments`: StateCommitmentRecord messages (SQL proxy → replay). */
export const PROXY_COMMITMENTS_SUBJECT = `${SUBJECT_PREFIX}.proxy.commitments`;
/** `ms.replay.results`: VerificationResult messages (replay → gateway, alerting). */
export const REPLAY_RESULTS_SUBJECT = `${SUBJECT_PREFIX}.replay.results`;

/**
 * `ms.dlq.<stream>`: messages a consumer of `stream` terminated (the original bytes; the reason travels in
 * headers, which are the messaging library's concern).
 * @throws TypeError / RangeError as {@link subjectToken}.
 * @example deadLetterSubject(Streams.changes.name) // 'ms.dlq.MS_CHANGES'
 */
export function deadLetterSubject(stream: string): string {
  return `${SUBJECT_PREFIX}.dlq.${subjectToken(stream)}`;
}

/**
 * A consumer filter subject for one subject family, optionally narrowed to one source (and table):
 * `ms.changes.>` / `ms.changes.pg-main.>` / `ms.changes.pg-main.public~2Eusers`. Use a source-wide filter
 * to see all parts of multi-table transactions in order.
 * @throws RangeError when `table` is given without `source`; TypeError / RangeError as {@link subjectToken}.
 * @example partitionedFilter('changes', 'pg-main') // 'ms.changes.pg-main.>'
 */
export function partitionedFilter(kind: 'changes' | 'blocks' | 'roots', source?: string, table?: string): string {
  if (kind !== 'changes' && kind !== 'blocks' && kind !== 'roots') throw new RangeError('kind must be changes, blocks or roots');
  if (source === undefined) {
    if (table !== undefined) throw new RangeError('table needs a source');
    return `${SUBJECT_PREFIX}.${kind}.>`;
  }
  if (table === undefined) return `${SUBJECT_PREFIX}.${kind}.${subjectToken(source)}.>`;
  return `${SUBJECT_PREFIX}.${kind}.${subjectToken(source)}.${subjectToken(table)}`;
}

/**
 * Takes a concrete (wildcard-free) MerkleSync subject apart, decoding its name tokens.
 * @throws TypeError when `subject` is not a string; ProtocolError(INVALID_SUBJECT) for anything that is not
 *   exactly one of the documented forms.
 * @example parseSubject('ms.roots.pg-main.public~2Eusers') // { kind: 'roots', source: 'pg-main', table: 'public.users' }
 */
export function parseSubject(subject: string): ParsedSubject {
  if (typeof subject !== 'string') throw new TypeError('subject must be a string');
  const bad = (why: string): never => {
    throw new ProtocolError(ProtocolErrorCode.InvalidSubject, `subject ${JSON.stringify(subject)}: ${why}`);
  };
  const t = subject.split('.');
  if (t[0] !== SUBJECT_PREFIX) return bad(`must start with "${SUBJECT_PREFIX}."`);
  switch (t[1]) {
    case 'changes':
    case 'blocks':
    case 'roots':
      if (t.length !== 4) return bad('needs exactly <source>.<table> after the family');
      return { kind: t[1], source: subjectTokenToName(t[2] ?? ''), table: subjectTokenToName(t[3] ?? '') };
    case 'checkpoints':
      return t.length === 2 ? { kind: 'checkpoints' } : bad('takes no further tokens');
    case 'proxy':
      return t.length === 3 && t[2] === 'commitments' ? { kind: 'proxy-commitments' } : bad('unknown proxy subject');
    case 'replay':
      return t.length === 3 && t[2] === 'results' ? { kind: 'replay-results' } : bad('unknown replay subject');
    case 'dlq':
      if (t.length !== 3) return bad('needs exactly <stream> after dlq');
      return { kind: 'dlq', stream: subjectTokenToName(t[2] ?? '') };
    default:
      return bad(`unknown family ${JSON.stringify(t[1] ?? '')}`);
  }
}

/** A JetStream stream: its name and the subjects it captures. Retention/limits are set by libs/messaging. */
export interface StreamSpec {
  readonly name: string;
  readonly subjects: readonly string[];
  /** Which event kind (decodeEvent) its messages carry, or 'any' for the dead-letter stream. */
  readonly event: 'change-batch' | 'data-block' | 'root-update' | 'checkpoint' | 'state-commitment' | 'verification-result' | 'any';
}

/** Every stream and the subjects it captures. No two streams overlap (JetStream rejects overlapping streams). */
export const Streams = {
  changes: { name: 'MS_CHANGES', subjects: ['ms.changes.>'], event: 'change-batch' },
  blocks: { name: 'MS_BLOCKS', subjects: ['ms.blocks.>'], event: 'data-block' },
  roots: { name: 'MS_ROOTS', subjects: ['ms.roots.>'], event: 'root-update' },
  checkpoints: { name: 'MS_CHECKPOINTS', subjects: ['ms.checkpoints'], event: 'checkpoint' },
  proxyCommitments: { name: 'MS_PROXY_COMMITMENTS', subjects: ['ms.proxy.commitments'], event: 'state-commitment' },
  replayResults: { name: 'MS_REPLAY_RESULTS', subjects: ['ms.replay.results'], event: 'verification-result' },
  deadLetter: { name: 'MS_DLQ', subjects: ['ms.dlq.>'], event: 'any' },
} as const satisfies Record<string, StreamSpec>;
