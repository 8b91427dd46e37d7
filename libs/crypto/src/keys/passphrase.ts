import { assertBytes, fromBase64, toBase64 } from '@merklesync/merkle';
import { getCryptoBackend, type CryptoBackend } from '../backend/index.ts';
import { CryptoError, CryptoErrorCode } from '../errors.ts';
import { _utf8 } from './_bytes.ts';
import { MASTER_KEY_BYTES, defaultRandom, type RandomSource } from './master-key.ts';

/** PBKDF2-SHA256 parameters of a passphrase-derived master key. Store them beside the data: the salt is not secret. */
export interface Pbkdf2Params {
  readonly kdf: 'pbkdf2-sha256';
  readonly salt: Uint8Array;
  readonly iterations: number;
}
/** scrypt (RFC 7914) parameters of a passphrase-derived master key. */
export interface ScryptParams {
  readonly kdf: 'scrypt';
  readonly salt: Uint8Array;
  readonly N: number;
  readonly r: number;
  readonly p: number;
}
export type PassphraseKdfParams = Pbkdf2Params | ScryptParams;

/**
 * Limits on passphrase KDF parameters. Minimums keep guessing expensive (the issue demands >= 100,000
 * PBKDF2 iterations; scrypt N=2^15, r=8 costs 32 MiB per guess); maximums stop a hostile parameter file
 * from making us burn minutes of CPU or gigabytes of memory. Defaults follow OWASP's 2023 guidance.
 */
export const PASSPHRASE_KDF_LIMITS = Object.freeze({
  saltMinBytes: 16,
  saltMaxBytes: 1024,
  pbkdf2MinIterations: 100_000,
  pbkdf2DefaultIterations: 600_000,
  pbkdf2MaxIterations: 10_000_000,
  scryptMinN: 1 << 15,
  scryptDefaultN: 1 << 17,
  scryptMaxN: 1 << 20,
  scryptMinR: 8,
  scryptMaxR: 32,
  scryptMinP: 1,
  scryptMaxP: 16,
  /** Memory of one scrypt evaluation, 128 * N * r bytes, is at most 1 GiB. */
  scryptMaxMemoryBytes: 1 << 30,
});

function _weak(reason: string): never {
  throw new CryptoError(CryptoErrorCode.InvalidKey, `passphrase KDF: ${reason}`);
}

function _int(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw new TypeError(`${name} must be an integer`);
  return v;
}

/**
 * Checks passphrase KDF parameters against PASSPHRASE_KDF_LIMITS.
 * @throws CryptoError(INVALID_KEY) when below a minimum or above a maximum; TypeError for wrong types.
 * @example assertPassphraseParams({ kdf: 'pbkdf2-sha256', salt, iterations: 600_000 })
 */
export function assertPassphraseParams(params: PassphraseKdfParams): void {
  const L = PASSPHRASE_KDF_LIMITS;
  if (typeof params !== 'object' || params === null) throw new TypeError('params must be an object');
  assertBytes('params.salt', params.salt);
  if (params.salt.length < L.saltMinBytes) _weak(`salt must be at least ${L.saltMinBytes} bytes, got ${params.salt.length}`);
  if (params.salt.length > L.saltMaxBytes) _weak(`salt must be at most ${L.saltMaxBytes} bytes, got ${params.salt.length}`);
  switch (params.kdf) {
    case 'pbkdf2-sha256': {
      const it = _int('params.iterations', params.iterations);
      if (it < L.pbkdf2MinIterations) _weak(`PBKDF2 iterations must be at least ${L.pbkdf2MinIterations}, got ${it}`);
      if (it > L.pbkdf2MaxIterations) _weak(`PBKDF2 iterations must be at most ${L.pbkdf2MaxIterations}, got ${it}`);
      return;
    }
    case 'scrypt': {
      const N = _int('params.N', params.N);
      const r = _int('params.r', params.r);
      const p = _int('params.p', params.p);
      if (N < L.scryptMinN || (N & (N - 1)) !== 0) _weak(`scrypt N must be a power of two >= ${L.scryptMinN}, got ${N}`);
      if (N > L.scryptMaxN) _weak(`scrypt N must be at most ${L.scryptMaxN}, got ${N}`);
      if (r < L.scryptMinR || r > L.scryptMaxR) _weak(`scrypt r must be in ${L.scryptMinR}..${L.scryptMaxR}, got ${r}`);
      if (p < L.scryptMinP || p > L.scryptMaxP) _weak(`scrypt p must be in ${L.scryptMinP}..${L.scryptMaxP}, got ${p}`);
      if (128 * N * r > L.scryptMaxMemoryBytes) _weak(`scrypt 128*N*r must be at most ${L.scryptMaxMemoryBytes} bytes`);
      return;
    }
    default:
      throw new TypeError(`params.kdf must be 'pbkdf2-sha256' or 'scrypt', got ${JSON.stringify((params as { kdf: unknown }).kdf)}`);
  }
}

/**
 * Fresh parameters (random 16-byte salt, default cost) for a new passphrase-derived master key.
 * @example const params = newPassphraseParams('scrypt');
 */
export function newPassphraseParams(kdf: PassphraseKdfParams['kdf'], random: RandomSource = defaultRandom): PassphraseKdfParams {
  const salt = random(PASSPHRASE_KDF_LIMITS.saltMinBytes);
  assertBytes('random(16)', salt, PASSPHRASE_KDF_LIMITS.saltMinBytes);
  if (kdf === 'pbkdf2-sha256') return { kdf, salt: new Uint8Array(salt), iterations: PASSPHRASE_KDF_LIMITS.pbkdf2DefaultIterations };
  if (kdf === 'scrypt') return { kdf, salt: new Uint8Array(salt), N: PASSPHRASE_KDF_LIMITS.scryptDefaultN, r: 8, p: 1 };
  throw new TypeError(`kdf must be 'pbkdf2-sha256' or 'scrypt', got ${JSON.stringify(kdf)}`);
}

/**
 * Derives a 32-byte master key from a passphrase. The passphrase is normalized to Unicode NFC, then
 * UTF-8 encoded, so the same passphrase typed on different systems gives the same key.
 * @throws CryptoError(INVALID_KEY) for an empty passphrase or parameters outside PASSPHRASE_KDF_LIMITS;
 *   TypeError/RangeError for wrong argument types or a lone surrogate.
 * @example const key = deriveMasterKeyFromPassphrase('correct horse battery staple', params);
 */
export function deriveMasterKeyFromPassphrase(passphrase: string, params: PassphraseKdfParams, backend: CryptoBackend = getCryptoBackend()): Uint8Array {
  const pw = _utf8('passphrase', passphrase);
  if (pw.length === 0) throw new CryptoError(CryptoErrorCode.InvalidKey, 'passphrase must not be empty');
  assertPassphraseParams(params);
  const normalized = _utf8('passphrase', passphrase.normalize('NFC'));
  if (params.kdf === 'pbkdf2-sha256') return backend.pbkdf2Sha256(normalized, params.salt, params.iterations, MASTER_KEY_BYTES);
  return backend.scrypt(normalized, params.salt, { N: params.N, r: params.r, p: params.p }, MASTER_KEY_BYTES);
}

/**
 * JSON form of the parameters: `{"kdf":"pbkdf2-sha256","salt":"<base64>","iterations":600000}` or
 * `{"kdf":"scrypt","salt":"<base64>","N":131072,"r":8,"p":1}`.
 * @example JSON.stringify(passphraseParamsToJson(params))
 */
export function passphraseParamsToJson(params: PassphraseKdfParams): Record<string, string | number> {
  assertPassphraseParams(params);
  return params.kdf === 'pbkdf2-sha256'
    ? { kdf: params.kdf, salt: toBase64(params.salt), iterations: params.iterations }
    : { kdf: params.kdf, salt: toBase64(params.salt), N: params.N, r: params.r, p: params.p };
}

/**
 * Parses the JSON form of passphrase parameters (object already parsed from JSON).
 * @throws CryptoError(MALFORMED_INPUT) for a wrong shape; CryptoError(INVALID_KEY) when below a minimum.
 * @example const params = passphraseParamsFromJson(JSON.parse(text));
 */
export function passphraseParamsFromJson(json: unknown): PassphraseKdfParams {
  const bad = (reason: string): never => {
    throw new CryptoError(CryptoErrorCode.MalformedInput, `passphrase KDF parameters: ${reason}`);
  };
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return bad('not an object');
  const o = json as Record<string, unknown>;
  const fields = o['kdf'] === 'pbkdf2-sha256' ? ['kdf', 'salt', 'iterations'] : o['kdf'] === 'scrypt' ? ['kdf', 'salt', 'N', 'r', 'p'] : bad(`unknown kdf ${JSON.stringify(o['kdf'])}`);
  for (const k of Object.keys(o)) if (!fields.includes(k)) bad(`unknown field ${JSON.stringify(k)}`);
  for (const k of fields.slice(2)) if (typeof o[k] !== 'number' || !Number.isSafeInteger(o[k])) bad(`"${k}" must be an integer`);
  if (typeof o['salt'] !== 'string') bad('"salt" must be base64');
  let salt: Uint8Array;
  try {
    salt = fromBase64(o['salt'] as string, 'salt');
  } catch {
    return bad('"salt" is not canonical base64');
  }
  const params: PassphraseKdfParams =
    o['kdf'] === 'pbkdf2-sha256'
      ? { kdf: 'pbkdf2-sha256', salt, iterations: o['iterations'] as number }
      : { kdf: 'scrypt', salt, N: o['N'] as number, r: o['r'] as number, p: o['p'] as number };
  assertPassphraseParams(params);
  return params;
}
