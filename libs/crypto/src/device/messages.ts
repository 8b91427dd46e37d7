import { concatBytes } from '@merklesync/merkle';
import { _fromUtf8, _malformed, _u64At, _u64Bytes, _utf8 } from '../note/_util.ts';

/** A server's challenge. With `server` set, the server also proved its key (mutual authentication). */
export interface HandshakeChallenge {
  /** Who issued it and for whom the device signs: the server's identity, e.g. `gateway.example`. */
  readonly audience: string;
  readonly nonce: Uint8Array;
  readonly issuedAt: number;
  readonly expiresAt: number;
  readonly server?: {
    /** The device's nonce that the server signed along. */
    readonly clientNonce: Uint8Array;
    readonly publicKey: Uint8Array;
    readonly signature: Uint8Array;
  };
}

/** A device's answer to a challenge. */
export interface HandshakeResponse {
  readonly nonce: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly signature: Uint8Array;
}

const _VERSION = 1;
/** Longest audience in UTF-8 bytes. */
export const MAX_AUDIENCE_BYTES = 255;
/** Length of an encoded response. */
export const HANDSHAKE_RESPONSE_BYTES = 1 + 32 + 32 + 64;

/**
 * Challenge bytes: 0x01 || flags (0x00, or 0x01 with server proof) || u8 audience length || audience (UTF-8) ||
 * nonce[32] || u64be issuedAt || u64be expiresAt || [clientNonce[32] || serverPublicKey[32] || signature[64]].
 * @throws RangeError for a field of the wrong length or range.
 * @example encodeChallenge(challenge)
 */
export function encodeChallenge(c: HandshakeChallenge): Uint8Array {
  const aud = _utf8(c.audience, 'audience');
  if (aud.length === 0 || aud.length > MAX_AUDIENCE_BYTES) throw new RangeError(`audience must be 1..${MAX_AUDIENCE_BYTES} UTF-8 bytes`);
  if (c.nonce?.length !== 32) throw new RangeError('nonce must be 32 bytes');
  const parts = [new Uint8Array([_VERSION, c.server ? 1 : 0, aud.length]), aud, c.nonce, _u64Bytes(c.issuedAt), _u64Bytes(c.expiresAt)];
  if (c.server) {
    if (c.server.clientNonce.length !== 32 || c.server.publicKey.length !== 32 || c.server.signature.length !== 64) throw new RangeError('server proof fields have wrong lengths');
    parts.push(c.server.clientNonce, c.server.publicKey, c.server.signature);
  }
  return concatBytes(...parts);
}

function _time(b: Uint8Array, off: number, what: string): number {
  const v = _u64At(b, off);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) _malformed(`challenge: ${what} too large`);
  return Number(v);
}

/**
 * Decodes challenge bytes strictly (exact length, known version and flags, non-empty UTF-8 audience).
 * @throws CryptoError(MALFORMED_INPUT); TypeError when not bytes.
 * @example decodeChallenge(bytesFromServer)
 */
export function decodeChallenge(b: Uint8Array): HandshakeChallenge {
  if (!(b instanceof Uint8Array)) throw new TypeError('challenge must be a Uint8Array');
  if (b.length < 3) _malformed('challenge: truncated');
  if (b[0] !== _VERSION) _malformed(`challenge: unknown version ${b[0]}`);
  const flags = b[1]!;
  if (flags !== 0 && flags !== 1) _malformed('challenge: unknown flags');
  const audLen = b[2]!;
  const want = 3 + audLen + 32 + 16 + (flags ? 128 : 0);
  if (audLen === 0) _malformed('challenge: empty audience');
  if (b.length !== want) _malformed(b.length < want ? 'challenge: truncated' : 'challenge: trailing bytes');
  const audience = _fromUtf8(b.subarray(3, 3 + audLen), 'challenge audience');
  let o = 3 + audLen;
  const nonce = b.slice(o, o + 32);
  o += 32;
  const issuedAt = _time(b, o, 'issuedAt');
  const expiresAt = _time(b, o + 8, 'expiresAt');
  o += 16;
  if (!flags) return { audience, nonce, issuedAt, expiresAt };
  return { audience, nonce, issuedAt, expiresAt, server: { clientNonce: b.slice(o, o + 32), publicKey: b.slice(o + 32, o + 64), signature: b.slice(o + 64, o + 128) } };
}

/**
 * Response bytes: 0x01 || nonce[32] || devicePublicKey[32] || signature[64] (129 bytes).
 * @throws RangeError for a field of the wrong length.
 * @example encodeResponse(respondToChallenge(challenge, me, { audience }))
 */
export function encodeResponse(r: HandshakeResponse): Uint8Array {
  if (r.nonce?.length !== 32 || r.publicKey?.length !== 32 || r.signature?.length !== 64) throw new RangeError('response fields have wrong lengths');
  return concatBytes(new Uint8Array([_VERSION]), r.nonce, r.publicKey, r.signature);
}

/**
 * Decodes response bytes strictly.
 * @throws CryptoError(MALFORMED_INPUT); TypeError when not bytes.
 * @example decodeResponse(bytesFromDevice)
 */
export function decodeResponse(b: Uint8Array): HandshakeResponse {
  if (!(b instanceof Uint8Array)) throw new TypeError('response must be a Uint8Array');
  if (b.length !== HANDSHAKE_RESPONSE_BYTES) _malformed(`response: ${b.length} bytes, not ${HANDSHAKE_RESPONSE_BYTES}`);
  if (b[0] !== _VERSION) _malformed(`response: unknown version ${b[0]}`);
  return { nonce: b.slice(1, 33), publicKey: b.slice(33, 65), signature: b.slice(65, 129) };
}
