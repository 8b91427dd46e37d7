// Input checks shared by every read: names, keys, roots, sequences. Bad input → GatewayError(INVALID_ARGUMENT).
import { badRequest } from '../errors.ts';

const _utf8 = new TextEncoder();
const _HEX = /^(?:[0-9a-f]{2})*$/;

/** A source or table name: 1..255 UTF-8 bytes. @throws GatewayError(INVALID_ARGUMENT). */
export function checkName(v: string, field: string): string {
  const n = _utf8.encode(v).length;
  if (n < 1 || n > 255) badRequest(`${field} must be 1..255 UTF-8 bytes`);
  return v;
}

/** A 32-byte key or root. @throws GatewayError(INVALID_ARGUMENT). */
export function checkHash(v: Uint8Array, field: string): Uint8Array {
  if (v.length !== 32) badRequest(`${field} must be 32 bytes, got ${v.length}`);
  return v;
}

/**
 * Lowercase (or uppercase) hex → bytes, with an exact length when given.
 * @throws GatewayError(INVALID_ARGUMENT) for non-hex input or a wrong length.
 * @example parseHex('ab'.repeat(32), 'mapKey', 32)
 */
export function parseHex(v: string, field: string, length?: number): Uint8Array {
  const s = v.toLowerCase();
  if (!_HEX.test(s)) badRequest(`${field} must be hex (an even number of 0-9a-f digits)`);
  if (length !== undefined && s.length !== length * 2) badRequest(`${field} must be ${length} bytes (${length * 2} hex digits), got ${s.length / 2}`);
  return Uint8Array.from(Buffer.from(s, 'hex'));
}

/** A uint64 that fits a JS number. @throws GatewayError(INVALID_ARGUMENT). */
export function u53(v: bigint, field: string): number {
  if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) badRequest(`${field} must be in [0, 2^53 - 1]`);
  return Number(v);
}

/**
 * A decimal query parameter (absent → `fallback`).
 * @throws GatewayError(INVALID_ARGUMENT) for anything but digits up to 2^53 - 1.
 * @example parseUint(query.checkpoint, 'checkpoint', 0n)
 */
export function parseUint(v: string | undefined, field: string, fallback: bigint): bigint {
  if (v === undefined || v === '') return fallback;
  if (!/^\d{1,16}$/.test(v) || Number(v) > Number.MAX_SAFE_INTEGER) badRequest(`${field} must be a non-negative integer, got ${JSON.stringify(v)}`);
  return BigInt(v);
}

/** Bytes → lowercase hex (REST form of every byte string). */
export function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}
