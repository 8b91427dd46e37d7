import { toHex } from '@merklesync/merkle';
import { CryptoError } from '../errors.ts';
import { _malformed } from '../note/_util.ts';
import { SignatureType, isValidKeyName, keyId, keyIdHex } from '../note/key-id.ts';
import { parseVerifierKey, type VerifierKey } from '../note/keys.ts';

/** One witness of a policy and the weight its cosignature carries. */
export interface PolicyWitness {
  readonly key: VerifierKey;
  readonly weight: number;
}

/** Who must sign a checkpoint for a client to trust it. Build with `createPolicy` or `parsePolicy`. */
export interface CheckpointPolicy {
  /** The checkpoint's origin line must equal this. */
  readonly origin: string;
  /** The log's key (type 0x01); its signature is required. */
  readonly log: VerifierKey;
  /** The configured witness set (type 0x04 keys, each public key once). */
  readonly witnesses: readonly PolicyWitness[];
  /** Sum of all witness weights (of the whole set, whoever signed). */
  readonly totalWeight: number;
  /** Minimum cosigned weight to accept; default the least weight strictly above 2/3 of `totalWeight`. */
  readonly threshold: number;
  /** Cosignatures older than this (seconds before the clock) do not count; undefined: no limit. */
  readonly maxCosignatureAgeSeconds?: number | undefined;
  /** Cosignatures dated more than this after the clock do not count; undefined: no limit. */
  readonly maxClockSkewSeconds?: number | undefined;
}

/** A witness as `createPolicy` accepts it: a vkey string (weight 1), a key, or a key with a weight. */
export type WitnessInput = string | VerifierKey | { readonly key: string | VerifierKey; readonly weight?: number };

/** What `createPolicy` takes. */
export interface PolicyInput {
  /** Default: the log key's name. */
  readonly origin?: string;
  readonly log: string | VerifierKey;
  readonly witnesses: readonly WitnessInput[];
  readonly threshold?: number;
  readonly maxCosignatureAgeSeconds?: number;
  readonly maxClockSkewSeconds?: number;
}

/** Largest weight of one witness, and most witnesses: keeps 3 × total exact in a double. */
export const MAX_WITNESS_WEIGHT = 1_000_000;
export const MAX_WITNESSES = 1_000;

/**
 * The default threshold: the least integer weight strictly greater than two thirds of `totalWeight`
 * (floor(2·total/3) + 1). Exactly two thirds is not enough.
 * @throws RangeError for a negative or non-integer total.
 * @example defaultThreshold(3) // 3; defaultThreshold(4) // 3; defaultThreshold(6) // 5
 */
export function defaultThreshold(totalWeight: number): number {
  if (!Number.isSafeInteger(totalWeight) || totalWeight < 0) throw new RangeError('totalWeight must be a non-negative safe integer');
  return Math.floor((2 * totalWeight) / 3) + 1;
}

function _key(k: string | VerifierKey, what: string): VerifierKey {
  if (typeof k === 'string') return parseVerifierKey(k);
  if (typeof k !== 'object' || k === null || !isValidKeyName(k.name) || !(k.publicKey instanceof Uint8Array) || k.publicKey.length !== 32) {
    throw new TypeError(`${what} must be a verifier key string or a VerifierKey`);
  }
  // A hand-built object with a key ID that does not match its key would never match a signature line.
  if (keyId(k.name, k.type, k.publicKey) !== k.keyId) throw new RangeError(`${what}: key ID does not match the key`);
  return { name: k.name, keyId: k.keyId, type: k.type, publicKey: k.publicKey.slice() };
}

function _seconds(v: unknown, what: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new RangeError(`${what} must be a non-negative integer number of seconds`);
  return v;
}

/**
 * Builds and validates a checkpoint policy: the log key must be type 0x01, witness keys type 0x04; no public
 * key appears twice (neither among witnesses nor as both log and witness — one key, one vote); weights are
 * integers 1..MAX_WITNESS_WEIGHT; the threshold (default `defaultThreshold(total)`) is 1..total, or 0 only when
 * given explicitly (trust the log's signature alone). An empty witness set needs an explicit threshold 0.
 * @throws TypeError / RangeError naming the bad field; CryptoError(INVALID_KEY) for a bad key string.
 * @example createPolicy({ log: logVkey, witnesses: [w1, w2, w3] }).threshold // 3
 */
export function createPolicy(input: PolicyInput): CheckpointPolicy {
  if (typeof input !== 'object' || input === null) throw new TypeError('policy must be an object');
  const log = _key(input.log, 'log');
  if (log.type !== SignatureType.Ed25519) throw new RangeError('log key must be of type 0x01 (Ed25519)');
  const origin = input.origin ?? log.name;
  if (typeof origin !== 'string' || origin.length === 0) throw new TypeError('origin must be a non-empty string');
  if (!Array.isArray(input.witnesses)) throw new TypeError('witnesses must be an array');
  if (input.witnesses.length > MAX_WITNESSES) throw new RangeError(`witnesses: more than ${MAX_WITNESSES}`);
  const seenKeys = new Set<string>([toHex(log.publicKey)]);
  const seenIds = new Set<string>();
  const witnesses: PolicyWitness[] = [];
  let totalWeight = 0;
  (input.witnesses as readonly WitnessInput[]).forEach((w, i) => {
    const what = `witnesses[${i}]`;
    const withWeight = typeof w === 'object' && w !== null && 'key' in w ? w : undefined;
    const key = _key(withWeight ? withWeight.key : (w as string | VerifierKey), what);
    const weight: unknown = withWeight ? (withWeight.weight ?? 1) : 1;
    if (key.type !== SignatureType.Ed25519Cosignature) throw new RangeError(`${what}: witness key must be of type 0x04 (Ed25519 cosignature)`);
    if (typeof weight !== 'number' || !Number.isSafeInteger(weight) || weight < 1 || weight > MAX_WITNESS_WEIGHT) throw new RangeError(`${what}: weight must be an integer 1..${MAX_WITNESS_WEIGHT}`);
    const hex = toHex(key.publicKey);
    if (seenKeys.has(hex)) throw new RangeError(`${what}: public key already in the policy (each key counts once)`);
    const id = `${key.name}+${keyIdHex(key.keyId)}`;
    if (seenIds.has(id)) throw new RangeError(`${what}: name and key ID ${id} already in the policy`);
    seenKeys.add(hex);
    seenIds.add(id);
    witnesses.push(Object.freeze({ key, weight }));
    totalWeight += weight;
  });
  let threshold: number;
  if (input.threshold === undefined) {
    if (witnesses.length === 0) throw new RangeError('witnesses: empty set needs an explicit threshold of 0');
    threshold = defaultThreshold(totalWeight);
  } else {
    threshold = input.threshold;
    if (!Number.isSafeInteger(threshold) || threshold < 0 || threshold > totalWeight) throw new RangeError(`threshold must be an integer 0..${totalWeight} (the total weight)`);
  }
  return Object.freeze({
    origin,
    log,
    witnesses: Object.freeze(witnesses),
    totalWeight,
    threshold,
    maxCosignatureAgeSeconds: _seconds(input.maxCosignatureAgeSeconds, 'maxCosignatureAgeSeconds'),
    maxClockSkewSeconds: _seconds(input.maxClockSkewSeconds, 'maxClockSkewSeconds'),
  });
}

const _FIELDS = new Set(['version', 'origin', 'log', 'witnesses', 'threshold', 'maxCosignatureAgeSeconds', 'maxClockSkewSeconds']);
const _MAX_POLICY_CHARS = 1024 * 1024;

/**
 * Parses a policy file (JSON, `version: 1`; see README.md part C): `log` a vkey string, `witnesses` an array of
 * vkey strings (weight 1) or `{ "vkey": "...", "weight": n }`, optional `origin`, `threshold`,
 * `maxCosignatureAgeSeconds`, `maxClockSkewSeconds`. Unknown fields are errors.
 * @throws CryptoError(MALFORMED_INPUT) for bad JSON or shape; CryptoError(INVALID_KEY) for a bad key string.
 * @example parsePolicy(await readFile('policy.json', 'utf8'))
 */
export function parsePolicy(json: string): CheckpointPolicy {
  if (typeof json !== 'string') throw new TypeError('json must be a string');
  if (json.length > _MAX_POLICY_CHARS) _malformed('policy: file too large');
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    return _malformed('policy: not valid JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) _malformed('policy: must be a JSON object');
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!_FIELDS.has(k)) _malformed(`policy: unknown field ${JSON.stringify(k)}`);
  if (o['version'] !== 1) _malformed('policy: "version" must be 1');
  if (typeof o['log'] !== 'string') _malformed('policy: "log" must be a verifier key string');
  if (o['origin'] !== undefined && typeof o['origin'] !== 'string') _malformed('policy: "origin" must be a string');
  if (!Array.isArray(o['witnesses'])) _malformed('policy: "witnesses" must be an array');
  const witnesses = (o['witnesses'] as unknown[]).map((w, i): WitnessInput => {
    if (typeof w === 'string') return w;
    if (typeof w !== 'object' || w === null || Array.isArray(w)) _malformed(`policy: witnesses[${i}] must be a vkey string or {"vkey", "weight"}`);
    const r = w as Record<string, unknown>;
    for (const k of Object.keys(r)) if (k !== 'vkey' && k !== 'weight') _malformed(`policy: witnesses[${i}]: unknown field ${JSON.stringify(k)}`);
    if (typeof r['vkey'] !== 'string') _malformed(`policy: witnesses[${i}].vkey must be a string`);
    if (r['weight'] !== undefined && typeof r['weight'] !== 'number') _malformed(`policy: witnesses[${i}].weight must be a number`);
    return { key: r['vkey'], weight: r['weight'] };
  });
  for (const k of ['threshold', 'maxCosignatureAgeSeconds', 'maxClockSkewSeconds']) {
    if (o[k] !== undefined && typeof o[k] !== 'number') _malformed(`policy: "${k}" must be a number`);
  }
  try {
    return createPolicy({
      origin: o['origin'],
      log: o['log'],
      witnesses,
      threshold: o['threshold'] as number | undefined,
      maxCosignatureAgeSeconds: o['maxCosignatureAgeSeconds'] as number | undefined,
      maxClockSkewSeconds: o['maxClockSkewSeconds'] as number | undefined,
    });
  } catch (e) {
    if (e instanceof CryptoError) throw new CryptoError(e.code, `policy: ${e.message}`);
    if (e instanceof TypeError || e instanceof RangeError) _malformed(`policy: ${e.message}`);
    throw e;
  }
}
