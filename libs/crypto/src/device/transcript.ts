import { concatBytes } from '@merklesync/merkle';
import { _u32Bytes, _u64Bytes, _utf8 } from '../note/_util.ts';

/** Domain-separation string of every handshake signature. */
export const HANDSHAKE_CONTEXT = 'merklesync/v1/handshake';

/** Who signs a transcript: the device proving its key, or the server proving its own (mutual authentication). */
export type HandshakeRole = 'device' | 'server';

/** The fields a handshake signature covers. */
export interface TranscriptFields {
  readonly role: HandshakeRole;
  readonly audience: string;
  /** The server's 32-byte challenge nonce. */
  readonly nonce: Uint8Array;
  /** The device's 32-byte nonce when it asked for mutual authentication, else empty. */
  readonly clientNonce: Uint8Array;
  /** Milliseconds since the epoch. */
  readonly issuedAt: number;
  readonly expiresAt: number;
  /** The signer's 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
}

function _frame(b: Uint8Array): Uint8Array {
  return concatBytes(_u32Bytes(b.length), b);
}

/**
 * The bytes a handshake signature signs: each field framed as u32be(length) || bytes, in this order — context,
 * role, audience (UTF-8), nonce, clientNonce, u64be(issuedAt), u64be(expiresAt), publicKey. Framing makes the
 * encoding injective; the context and role keep these signatures from being valid anywhere else.
 * @throws RangeError for a field of the wrong length or range.
 * @example ed25519Sign(seed, handshakeTranscript({ role: 'device', ... }))
 */
export function handshakeTranscript(f: TranscriptFields): Uint8Array {
  if (f.role !== 'device' && f.role !== 'server') throw new RangeError('role must be device or server');
  if (f.nonce?.length !== 32) throw new RangeError('nonce must be 32 bytes');
  if (f.clientNonce?.length !== 0 && f.clientNonce?.length !== 32) throw new RangeError('clientNonce must be empty or 32 bytes');
  if (f.publicKey?.length !== 32) throw new RangeError('publicKey must be 32 bytes');
  for (const [k, v] of [['issuedAt', f.issuedAt], ['expiresAt', f.expiresAt]] as const) {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${k} must be non-negative integer milliseconds`);
  }
  return concatBytes(
    _frame(_utf8(HANDSHAKE_CONTEXT, 'context')),
    _frame(_utf8(f.role, 'role')),
    _frame(_utf8(f.audience, 'audience')),
    _frame(f.nonce),
    _frame(f.clientNonce),
    _frame(_u64Bytes(f.issuedAt)),
    _frame(_u64Bytes(f.expiresAt)),
    _frame(f.publicKey),
  );
}
