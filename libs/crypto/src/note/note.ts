import { concatBytes, toBase64 } from '@merklesync/merkle';
import { getCryptoBackend } from '../backend/index.ts';
import { _b64, _clip, _failed, _fromUtf8, _malformed, _u32, _u32Bytes, _utf8 } from './_util.ts';
import { SignatureType, isValidKeyName, keyIdHex } from './key-id.ts';
import type { SignerKey, VerifierKey } from './keys.ts';

/** Largest signed note accepted, in UTF-8 bytes (room for 16+ post-quantum signatures, as the spec asks). */
export const MAX_NOTE_BYTES = 256 * 1024;
/** Most signature lines accepted in one note (golang.org/x/mod/sumdb/note's bound). */
export const MAX_NOTE_SIGNATURES = 100;

/** One signature line of a note, not yet verified. */
export interface NoteSignature {
  readonly name: string;
  readonly keyId: number;
  /** The signature bytes after the 4-byte key ID. */
  readonly signature: Uint8Array;
  /** The base64 text of the line (key ID || signature), as it appeared. */
  readonly base64: string;
}

/** A parsed signed note: the text (ending in newline) and its signature lines in order. */
export interface Note {
  readonly text: string;
  readonly signatures: readonly NoteSignature[];
}

/** Checks one signature of a note text by one key (name + key ID). */
export interface NoteVerifier {
  readonly name: string;
  readonly keyId: number;
  /** Whether `signature` (the bytes after the key ID) is valid for the note text's UTF-8 bytes. Never throws. */
  verify(text: Uint8Array, signature: Uint8Array): boolean;
}

/** Produces one signature of a note text. */
export interface NoteSigner {
  readonly name: string;
  readonly keyId: number;
  sign(text: Uint8Array): Uint8Array;
}

/** What `openNote` returns: the text and the signatures that verified or whose key is unknown. */
export interface OpenedNote {
  readonly text: string;
  /** Signatures by known keys, each key once, all verified. */
  readonly verified: readonly NoteSignature[];
  /** Signatures whose (name, key ID) no verifier knows: ignored, as the spec requires. */
  readonly unknown: readonly NoteSignature[];
}

const _DASH = '\u2014 ';
// eslint-disable-next-line no-control-regex
const _BAD_CHAR = /[\u0000-\u0009\u000B-\u001F]/u;

function _checkText(s: string, what: string): void {
  if (_BAD_CHAR.test(s)) _malformed(`${what}: control character other than newline`);
}

/**
 * Parses a signed note strictly (c2sp.org/signed-note): valid UTF-8, no control character but newline, text
 * ending in newline, then a blank line, then 1..100 lines `— <name> <base64(keyID[4] || signature)>`, each
 * ending in newline; at most MAX_NOTE_BYTES. Verifies nothing.
 * @throws CryptoError(MALFORMED_INPUT) with a one-line reason; TypeError when `note` is neither string nor bytes.
 * @example parseNote(text).signatures[0].name
 */
export function parseNote(note: string | Uint8Array): Note {
  let s: string;
  if (typeof note === 'string') {
    if (note.length > MAX_NOTE_BYTES) _malformed(`note: larger than ${MAX_NOTE_BYTES} bytes`);
    s = note;
    if (_utf8(s, 'note').length > MAX_NOTE_BYTES) _malformed(`note: larger than ${MAX_NOTE_BYTES} bytes`);
  } else if (note instanceof Uint8Array) {
    if (note.length > MAX_NOTE_BYTES) _malformed(`note: larger than ${MAX_NOTE_BYTES} bytes`);
    s = _fromUtf8(note, 'note');
  } else {
    throw new TypeError('note must be a string or a Uint8Array');
  }
  _checkText(s, 'note');
  const split = s.lastIndexOf('\n\n');
  if (split < 0) _malformed('note: no blank line before the signatures');
  const text = s.slice(0, split + 1);
  const block = s.slice(split + 2);
  if (block.length === 0 || !block.endsWith('\n')) _malformed('note: signature block missing or not ending in newline');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_NOTE_SIGNATURES) _malformed(`note: more than ${MAX_NOTE_SIGNATURES} signatures`);
  const signatures = lines.map((line, i) => _parseSigLine(line, i + 1));
  return { text, signatures };
}

function _parseSigLine(line: string, n: number): NoteSignature {
  if (!line.startsWith(_DASH)) _malformed(`note: signature line ${n} does not start with "— "`);
  const rest = line.slice(_DASH.length);
  const sp = rest.indexOf(' ');
  if (sp < 0) _malformed(`note: signature line ${n} has no space between name and signature`);
  const name = rest.slice(0, sp);
  const base64 = rest.slice(sp + 1);
  if (!isValidKeyName(name)) _malformed(`note: signature line ${n}: invalid key name ${_clip(name)}`);
  const raw = _b64(base64, `note: signature line ${n}`);
  if (raw.length < 5) _malformed(`note: signature line ${n}: shorter than a key ID and one byte`);
  return { name, keyId: _u32(raw), signature: raw.slice(4), base64 };
}

/**
 * Formats a note from its text and signature lines (no verification; the text must end in newline).
 * @throws CryptoError(MALFORMED_INPUT) when the text does not end in newline or has a control character.
 * @example formatNote({ text: 'hello\n', signatures: [] })
 */
export function formatNote(note: Note): string {
  if (typeof note?.text !== 'string') throw new TypeError('note.text must be a string');
  if (!note.text.endsWith('\n')) _malformed('note text must end in newline');
  _checkText(note.text, 'note text');
  let out = note.text + '\n';
  for (const s of note.signatures) {
    if (!isValidKeyName(s.name)) _malformed(`note: invalid key name ${_clip(s.name)}`);
    out += `${_DASH}${s.name} ${s.base64}\n`;
  }
  return out;
}

/**
 * A note signature made now: key ID || signer.sign(text).
 * @throws whatever the signer throws; TypeError for a text that is not a string.
 * @example makeSignature(text, ed25519NoteSigner(sk))
 */
export function makeSignature(text: string, signer: NoteSigner): NoteSignature {
  if (typeof text !== 'string') throw new TypeError('text must be a string');
  const signature = signer.sign(_utf8(text, 'note text'));
  return { name: signer.name, keyId: signer.keyId, signature, base64: toBase64(concatBytes(_u32Bytes(signer.keyId), signature)) };
}

/**
 * Signs a note text with each signer; `existing` signatures (e.g. of an opened note) are kept, except those by
 * a key (name + key ID) that signs again, whose new signature replaces the old.
 * @throws CryptoError(MALFORMED_INPUT) when the text is not a valid note text (must end in newline).
 * @example signNote('hello\n', [ed25519NoteSigner(sk)])
 */
export function signNote(text: string, signers: readonly NoteSigner[], existing: readonly NoteSignature[] = []): string {
  if (typeof text !== 'string') throw new TypeError('text must be a string');
  if (!text.endsWith('\n')) _malformed('note text must end in newline');
  _checkText(text, 'note text');
  const fresh = signers.map((s) => makeSignature(text, s));
  const replaced = new Set(fresh.map((s) => `${s.name}+${s.keyId}`));
  const kept = existing.filter((s) => !replaced.has(`${s.name}+${s.keyId}`));
  if (kept.length + fresh.length > MAX_NOTE_SIGNATURES) _malformed(`note: more than ${MAX_NOTE_SIGNATURES} signatures`);
  return formatNote({ text, signatures: [...kept, ...fresh] });
}

/**
 * Opens a signed note against known keys (c2sp.org/signed-note): signatures whose (name, key ID) no verifier
 * knows are ignored; every signature by a known key must verify (a failing one rejects the whole note — the
 * spec's SHOULD, taken as MUST here); a key signing twice is listed once; at least one known key must have signed.
 * @throws CryptoError(MALFORMED_INPUT) for a malformed note; CryptoError(VERIFICATION_FAILED) for a bad signature
 *   by a known key or no known signature; RangeError when two verifiers share a name and key ID.
 * @example openNote(msg, [ed25519NoteVerifier(parseVerifierKey(vkey))]).text
 */
export function openNote(note: string | Uint8Array | Note, verifiers: readonly NoteVerifier[]): OpenedNote {
  const parsed = typeof note === 'string' || note instanceof Uint8Array ? parseNote(note) : note;
  const byId = _verifierMap(verifiers);
  const text = _utf8(parsed.text, 'note text');
  const verified: NoteSignature[] = [];
  const unknown: NoteSignature[] = [];
  const seen = new Set<string>();
  for (const sig of parsed.signatures) {
    const id = `${sig.name}+${keyIdHex(sig.keyId)}`;
    const v = byId.get(id);
    if (!v) {
      unknown.push(sig);
      continue;
    }
    // Every line by a known key is checked, duplicates included: an invalid one means someone forged or garbled it.
    if (!v.verify(text, sig.signature)) _failed(`note: signature by ${id} does not verify`);
    if (seen.has(id)) continue;
    seen.add(id);
    verified.push(sig);
  }
  if (verified.length === 0) _failed('note: no signature by a known key');
  return { text: parsed.text, verified, unknown };
}

function _verifierMap(verifiers: readonly NoteVerifier[]): Map<string, NoteVerifier> {
  if (!Array.isArray(verifiers)) throw new TypeError('verifiers must be an array');
  const m = new Map<string, NoteVerifier>();
  for (const v of verifiers as readonly NoteVerifier[]) {
    const id = `${v.name}+${keyIdHex(v.keyId)}`;
    if (m.has(id)) throw new RangeError(`verifiers: two verifiers for ${id}`);
    m.set(id, v);
  }
  return m;
}

/**
 * A verifier of plain Ed25519 note signatures (type 0x01) for a verifier key.
 * @throws RangeError when the key is not of type 0x01.
 * @example ed25519NoteVerifier(parseVerifierKey(vkey))
 */
export function ed25519NoteVerifier(key: VerifierKey): NoteVerifier {
  if (key.type !== SignatureType.Ed25519) throw new RangeError('key must be of type 0x01 (Ed25519)');
  const pub = key.publicKey.slice();
  const b = getCryptoBackend();
  return {
    name: key.name,
    keyId: key.keyId,
    verify: (text, signature) => signature.length === 64 && b.ed25519Verify(pub, text, signature),
  };
}

/**
 * A signer of plain Ed25519 note signatures (type 0x01).
 * @throws RangeError when the key is not of type 0x01.
 * @example signNote(text, [ed25519NoteSigner(parseSignerKey(skey))])
 */
export function ed25519NoteSigner(key: SignerKey): NoteSigner {
  if (key.type !== SignatureType.Ed25519) throw new RangeError('key must be of type 0x01 (Ed25519)');
  const seed = key.seed.slice();
  const b = getCryptoBackend();
  return { name: key.name, keyId: key.keyId, sign: (text) => b.ed25519Sign(seed, text) };
}
