import { concatBytes } from '@merklesync/merkle';
import { getCryptoBackend } from '../backend/index.ts';
import { _u64At, _u64Bytes, _utf8 } from '../note/_util.ts';
import { SignatureType } from '../note/key-id.ts';
import type { SignerKey, VerifierKey } from '../note/keys.ts';
import { parseNote, signNote, type NoteSigner, type NoteVerifier } from '../note/note.ts';
import { parseCheckpoint } from './body.ts';
import { _now, systemClock, type Clock } from './clock.ts';

/** Bytes of an Ed25519 cosignature after the key ID: u64 timestamp || 64-byte signature. */
export const COSIGNATURE_BYTES = 72;
const _MAX_TIMESTAMP = 2n ** 63n - 1n;

/**
 * The message an Ed25519 witness signs (c2sp.org/tlog-cosignature): `cosignature/v1\ntime <T>\n` followed by
 * the whole checkpoint body, T in decimal seconds without leading zeros.
 * @throws RangeError for a timestamp that is not a non-negative safe integer; TypeError for a non-string body.
 * @example cosignatureMessage(body, 1679315147)
 */
export function cosignatureMessage(body: string, timestamp: number): Uint8Array {
  if (typeof body !== 'string') throw new TypeError('body must be a string');
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new RangeError('timestamp must be a non-negative safe integer (seconds)');
  return _utf8(`cosignature/v1\ntime ${timestamp}\n${body}`, 'checkpoint body');
}

/**
 * The timestamp (seconds) of a cosignature line's bytes after the key ID, or undefined when the line is not
 * 72 bytes or the time exceeds 2^53 − 1 (the spec caps it at 2^63 − 1; JS numbers stop earlier).
 * @example cosignatureTimestamp(sig.signature) // 1727964367
 */
export function cosignatureTimestamp(signature: Uint8Array): number | undefined {
  if (!(signature instanceof Uint8Array) || signature.length !== COSIGNATURE_BYTES) return undefined;
  const t = _u64At(signature, 0);
  return t > BigInt(Number.MAX_SAFE_INTEGER) ? undefined : Number(t);
}

/**
 * A verifier of Ed25519 cosignatures (type 0x04) for a witness verifier key.
 * @throws RangeError when the key is not of type 0x04.
 * @example openNote(note, [cosignatureVerifier(parseVerifierKey(witnessVkey))])
 */
export function cosignatureVerifier(key: VerifierKey): NoteVerifier {
  if (key.type !== SignatureType.Ed25519Cosignature) throw new RangeError('key must be of type 0x04 (Ed25519 cosignature)');
  const pub = key.publicKey.slice();
  const b = getCryptoBackend();
  return {
    name: key.name,
    keyId: key.keyId,
    verify(text, signature) {
      if (signature.length !== COSIGNATURE_BYTES) return false;
      const t = _u64At(signature, 0);
      if (t > _MAX_TIMESTAMP) return false;
      const msg = concatBytes(_utf8(`cosignature/v1\ntime ${t}\n`, 'prefix'), text);
      return b.ed25519Verify(pub, msg, signature.subarray(8));
    },
  };
}

/**
 * A note signer that cosigns with a witness key (type 0x04), stamping the time read from `clock` (floor of
 * seconds).
 * @throws RangeError when the key is not of type 0x04.
 * @example signNote(body, [cosignatureSigner(witnessKey, () => Date.now())])
 */
export function cosignatureSigner(key: SignerKey, clock: Clock = systemClock): NoteSigner {
  if (key.type !== SignatureType.Ed25519Cosignature) throw new RangeError('key must be of type 0x04 (Ed25519 cosignature)');
  const seed = key.seed.slice();
  const b = getCryptoBackend();
  return {
    name: key.name,
    keyId: key.keyId,
    sign(text) {
      const t = Math.floor(_now(clock) / 1000);
      const msg = concatBytes(_utf8(`cosignature/v1\ntime ${t}\n`, 'prefix'), text);
      return concatBytes(_u64Bytes(t), b.ed25519Sign(seed, msg));
    },
  };
}

/**
 * Adds a witness cosignature to a signed checkpoint note and returns the new note (a previous line by the same
 * witness key is replaced). The witness states only what it signs: it does not check the log's signature or
 * consistency here — a real witness does that before calling this.
 * @throws CryptoError(MALFORMED_INPUT) when `note` is not a signed note with a checkpoint body; RangeError for a
 *   key that is not of type 0x04.
 * @example cosignCheckpoint(note, witnessKey, () => Date.now())
 */
export function cosignCheckpoint(note: string, witnessKey: SignerKey, clock: Clock = systemClock): string {
  const parsed = parseNote(note);
  parseCheckpoint(parsed.text);
  return signNote(parsed.text, [cosignatureSigner(witnessKey, clock)], parsed.signatures);
}
