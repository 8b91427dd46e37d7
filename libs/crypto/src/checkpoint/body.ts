import { toBase64 } from '@merklesync/merkle';
import { _b64, _clip, _decimal, _malformed } from '../note/_util.ts';
import { isValidKeyName } from '../note/key-id.ts';

/**
 * A checkpoint (c2sp.org/tlog-checkpoint body) with MerkleSync's extension: the state root of the database
 * (map) and a sequence number, as the two extension lines `merklesync-state <base64>` and `merklesync-seq <n>`.
 */
export interface Checkpoint {
  /** Log identity, e.g. `merklesync.example/orders-log`. */
  readonly origin: string;
  /** Number of leaves of the log. */
  readonly size: number;
  /** 32-byte RFC 6962/9162 root of the log at `size`. */
  readonly rootHash: Uint8Array;
  /** 32-byte state (database/map) root; present exactly when `seq` is. */
  readonly stateRoot?: Uint8Array | undefined;
  /** Checkpoint sequence number; present exactly when `stateRoot` is. */
  readonly seq?: number | undefined;
  /** Further extension lines (opaque, non-empty), after ours. */
  readonly extensions?: readonly string[] | undefined;
}

/** Prefix of MerkleSync's extension lines; a line with it anywhere else is malformed. */
export const EXTENSION_PREFIX = 'merklesync-';
const _STATE = 'merklesync-state ';
const _SEQ = 'merklesync-seq ';
// eslint-disable-next-line no-control-regex
const _BAD_CHAR = /[\u0000-\u001F\uD800-\uDFFF]/u;

function _check(cp: Checkpoint): void {
  if (typeof cp !== 'object' || cp === null) throw new TypeError('checkpoint must be an object');
  if (!isValidKeyName(cp.origin)) throw new TypeError('checkpoint.origin must be non-empty, without spaces, + or control characters');
  if (typeof cp.size !== 'number' || !Number.isSafeInteger(cp.size) || cp.size < 0) throw new RangeError('checkpoint.size must be a non-negative safe integer');
  if (!(cp.rootHash instanceof Uint8Array) || cp.rootHash.length !== 32) throw new RangeError('checkpoint.rootHash must be 32 bytes');
  if ((cp.stateRoot === undefined) !== (cp.seq === undefined)) throw new TypeError('checkpoint.stateRoot and checkpoint.seq go together');
  if (cp.stateRoot !== undefined && (!(cp.stateRoot instanceof Uint8Array) || cp.stateRoot.length !== 32)) throw new RangeError('checkpoint.stateRoot must be 32 bytes');
  if (cp.seq !== undefined && (typeof cp.seq !== 'number' || !Number.isSafeInteger(cp.seq) || cp.seq < 0)) throw new RangeError('checkpoint.seq must be a non-negative safe integer');
  for (const e of cp.extensions ?? []) {
    if (typeof e !== 'string' || e.length === 0 || _BAD_CHAR.test(e) || e.startsWith(EXTENSION_PREFIX)) {
      throw new RangeError(`checkpoint.extensions: each must be a non-empty line without control characters, not starting with ${EXTENSION_PREFIX}`);
    }
  }
}

/**
 * The note text (body) of a checkpoint: origin, size, base64 root, then our two extension lines (if any), then
 * further extension lines; every line ends in newline.
 * @throws TypeError / RangeError naming the bad field.
 * @example formatCheckpoint({ origin: 'example.com/log', size: 3, rootHash, stateRoot, seq: 7 })
 */
export function formatCheckpoint(cp: Checkpoint): string {
  _check(cp);
  let s = `${cp.origin}\n${cp.size}\n${toBase64(cp.rootHash)}\n`;
  if (cp.stateRoot !== undefined) s += `${_STATE}${toBase64(cp.stateRoot)}\n${_SEQ}${cp.seq}\n`;
  for (const e of cp.extensions ?? []) s += e + '\n';
  return s;
}

/**
 * Parses a checkpoint body strictly: at least three lines, each ending in newline; origin non-empty; size decimal
 * without leading zeros (≤ 2^53 − 1); root canonical base64 of 32 bytes; extension lines non-empty; our
 * `merklesync-state`/`merklesync-seq` lines, when present, are lines 4 and 5 exactly (both or neither), with a
 * canonical base64 32-byte root and a decimal sequence number.
 * @throws CryptoError(MALFORMED_INPUT) with a one-line reason; TypeError when `text` is not a string.
 * @example parseCheckpoint(openedNote.text).size
 */
export function parseCheckpoint(text: string): Checkpoint {
  if (typeof text !== 'string') throw new TypeError('text must be a string');
  if (!text.endsWith('\n')) _malformed('checkpoint: does not end in newline');
  if (_BAD_CHAR.test(text.replaceAll('\n', ''))) _malformed('checkpoint: control character other than newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) _malformed('checkpoint: fewer than three lines');
  const [origin, sizeText, rootText] = lines as [string, string, string];
  if (origin.length === 0) _malformed('checkpoint: empty origin');
  const size = _decimal(sizeText, 'checkpoint size');
  const rootHash = _b64(rootText, 'checkpoint root hash');
  if (rootHash.length !== 32) _malformed(`checkpoint: root hash is ${rootHash.length} bytes, not 32`);
  let rest = lines.slice(3);
  let stateRoot: Uint8Array | undefined;
  let seq: number | undefined;
  if (rest[0]?.startsWith(_STATE)) {
    stateRoot = _b64(rest[0].slice(_STATE.length), 'checkpoint merklesync-state');
    if (stateRoot.length !== 32) _malformed(`checkpoint: merklesync-state is ${stateRoot.length} bytes, not 32`);
    if (!rest[1]?.startsWith(_SEQ)) _malformed('checkpoint: merklesync-state without merklesync-seq on the next line');
    seq = _decimal(rest[1].slice(_SEQ.length), 'checkpoint merklesync-seq');
    rest = rest.slice(2);
  }
  for (const e of rest) {
    if (e.length === 0) _malformed('checkpoint: empty extension line');
    if (e.startsWith(EXTENSION_PREFIX)) _malformed(`checkpoint: misplaced or unknown MerkleSync extension line ${_clip(e)}`);
  }
  return { origin, size, rootHash, stateRoot, seq, extensions: rest };
}
