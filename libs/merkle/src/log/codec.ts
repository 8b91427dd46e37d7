import { ByteReader, ByteWriter, assertBytes, assertIndex, fromHex, toHex } from '../bytes.ts';
import { MerkleError, MerkleErrorCode } from '../errors.ts';
import { getHashSuite, isHashSuiteName, type HashSuiteName } from '../hash/index.ts';
import { MAX_PROOF_ITEMS, PROOF_FORMAT_VERSION, ProofKind, ProofKindCode, SuiteCode } from '../proof-format.ts';
import type { LogTree } from './log-tree.ts';
import { verifyConsistency, verifyInclusion } from './verify.ts';

/** A self-contained RFC 9162 inclusion proof: everything `verifyLogProof` needs. */
export interface LogInclusionProof {
  readonly kind: 'log-inclusion';
  readonly hash: HashSuiteName;
  readonly treeSize: number;
  readonly leafIndex: number;
  readonly leafHash: Uint8Array;
  readonly root: Uint8Array;
  /** Audit path, bottom-up (RFC 9162 §2.1.3.1 order). */
  readonly path: readonly Uint8Array[];
}

/** A self-contained RFC 9162 consistency proof between two tree heads. */
export interface LogConsistencyProof {
  readonly kind: 'log-consistency';
  readonly hash: HashSuiteName;
  readonly size1: number;
  readonly size2: number;
  readonly root1: Uint8Array;
  readonly root2: Uint8Array;
  /** Consistency path (RFC 9162 §2.1.4.1 order). */
  readonly path: readonly Uint8Array[];
}

export type LogProof = LogInclusionProof | LogConsistencyProof;

/** JSON form of a {@link LogInclusionProof}; byte strings are lowercase hex. */
export interface LogInclusionProofJson {
  v: 1;
  kind: 'log-inclusion';
  hash: HashSuiteName;
  treeSize: number;
  leafIndex: number;
  leafHash: string;
  root: string;
  path: string[];
}

/** JSON form of a {@link LogConsistencyProof}; byte strings are lowercase hex. */
export interface LogConsistencyProofJson {
  v: 1;
  kind: 'log-consistency';
  hash: HashSuiteName;
  size1: number;
  size2: number;
  root1: string;
  root2: string;
  path: string[];
}

export type LogProofJson = LogInclusionProofJson | LogConsistencyProofJson;

const _INCLUSION_KEYS = ['hash', 'kind', 'leafHash', 'leafIndex', 'path', 'root', 'treeSize', 'v'];
const _CONSISTENCY_KEYS = ['hash', 'kind', 'path', 'root1', 'root2', 'size1', 'size2', 'v'];
const _HEX32 = /^[0-9a-f]{64}$/;

/**
 * A self-contained inclusion proof of leaf `leafIndex` in `tree` at `treeSize` (default: its current size).
 * @throws RangeError unless leafIndex < treeSize <= tree.size.
 * @example const p = proveLogInclusion(log, 5); verifyLogProof(p) // true
 */
export function proveLogInclusion(tree: LogTree, leafIndex: number, treeSize: number = tree.size): LogInclusionProof {
  const path = tree.inclusionProof(leafIndex, treeSize);
  return { kind: 'log-inclusion', hash: tree.suite.name, treeSize, leafIndex, leafHash: tree.leafHash(leafIndex), root: tree.root(treeSize), path };
}

/**
 * A self-contained consistency proof between sizes `size1` and `size2` of `tree` (0 < size1 <= size2 <= tree.size).
 * @throws RangeError outside that range.
 * @example verifyLogProof(proveLogConsistency(log, 10, 20)) // true
 */
export function proveLogConsistency(tree: LogTree, size1: number, size2: number = tree.size): LogConsistencyProof {
  const path = tree.consistencyProof(size1, size2);
  return { kind: 'log-consistency', hash: tree.suite.name, size1, size2, root1: tree.root(size1), root2: tree.root(size2), path };
}

/**
 * Verifies a decoded log proof with the hash suite it names. False (never an exception) for anything malformed.
 * @throws never
 * @example verifyLogProof(decodeLogProof(bytes))
 */
export function verifyLogProof(proof: LogProof): boolean {
  try {
    if (typeof proof !== 'object' || proof === null || !isHashSuiteName(proof.hash)) return false;
    const suite = getHashSuite(proof.hash);
    if (proof.kind === ProofKind.LogInclusion) {
      return verifyInclusion(suite, proof.leafHash, proof.leafIndex, proof.treeSize, proof.path, proof.root);
    }
    if (proof.kind === ProofKind.LogConsistency) {
      return verifyConsistency(suite, proof.size1, proof.size2, proof.path, proof.root1, proof.root2);
    }
    return false;
  } catch {
    // A hand-built object with hostile getters must still only ever yield false.
    return false;
  }
}

function _checkProof(proof: LogProof): void {
  if (typeof proof !== 'object' || proof === null) throw new TypeError('proof must be an object');
  if (!isHashSuiteName(proof.hash)) throw new RangeError(`proof.hash must be 'sha256' or 'blake3'`);
  if (!Array.isArray(proof.path)) throw new TypeError('proof.path must be an array');
  if (proof.path.length > MAX_PROOF_ITEMS) throw new RangeError(`proof.path has more than ${MAX_PROOF_ITEMS} items`);
  proof.path.forEach((p, i) => assertBytes(`proof.path[${i}]`, p, 32));
  if (proof.kind === ProofKind.LogInclusion) {
    assertIndex('proof.treeSize', proof.treeSize);
    assertIndex('proof.leafIndex', proof.leafIndex);
    assertBytes('proof.leafHash', proof.leafHash, 32);
    assertBytes('proof.root', proof.root, 32);
  } else if (proof.kind === ProofKind.LogConsistency) {
    assertIndex('proof.size1', proof.size1);
    assertIndex('proof.size2', proof.size2);
    assertBytes('proof.root1', proof.root1, 32);
    assertBytes('proof.root2', proof.root2, 32);
  } else {
    throw new RangeError(`proof.kind must be 'log-inclusion' or 'log-consistency'`);
  }
}

/**
 * The JSON form of a log proof (a plain object; `JSON.stringify` it to send).
 * @throws TypeError/RangeError when `proof` is not a well-formed LogProof.
 * @example JSON.stringify(logProofToJson(proveLogInclusion(log, 0)))
 */
export function logProofToJson(proof: LogProof): LogProofJson {
  _checkProof(proof);
  const path = proof.path.map(toHex);
  if (proof.kind === ProofKind.LogInclusion) {
    return { v: 1, kind: proof.kind, hash: proof.hash, treeSize: proof.treeSize, leafIndex: proof.leafIndex, leafHash: toHex(proof.leafHash), root: toHex(proof.root), path };
  }
  return { v: 1, kind: proof.kind, hash: proof.hash, size1: proof.size1, size2: proof.size2, root1: toHex(proof.root1), root2: toHex(proof.root2), path };
}

function _bad(reason: string): never {
  throw new MerkleError(MerkleErrorCode.MalformedInput, `log proof JSON: ${reason}`);
}

function _jsonHash(o: Record<string, unknown>, key: string): Uint8Array {
  const v = o[key];
  if (typeof v !== 'string' || !_HEX32.test(v)) _bad(`${key} must be 64 lowercase hex digits`);
  return fromHex(v, key);
}

function _jsonSize(o: Record<string, unknown>, key: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) _bad(`${key} must be a non-negative safe integer`);
  return v;
}

/**
 * Parses the JSON form (an object, or a string holding one) strictly: exact key set, version 1, lowercase
 * 32-byte hex hashes, safe-integer sizes. Semantics (index < size ...) are left to {@link verifyLogProof}.
 * @throws MerkleError(MALFORMED_INPUT) on anything else.
 * @example verifyLogProof(logProofFromJson(text))
 */
export function logProofFromJson(json: unknown): LogProof {
  let o: unknown = json;
  if (typeof o === 'string') {
    try {
      o = JSON.parse(o);
    } catch {
      _bad('not JSON');
    }
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) _bad('not an object');
  const rec = o as Record<string, unknown>;
  if (rec.v !== PROOF_FORMAT_VERSION) _bad(`unsupported version ${String(rec.v)}`);
  if (!isHashSuiteName(rec.hash)) _bad('unknown hash suite');
  const keys = Object.keys(rec).sort();
  const want = rec.kind === ProofKind.LogInclusion ? _INCLUSION_KEYS : rec.kind === ProofKind.LogConsistency ? _CONSISTENCY_KEYS : _bad('kind must be log-inclusion or log-consistency');
  if (keys.length !== want.length || keys.some((k, i) => k !== want[i])) _bad(`fields must be exactly ${want.join(', ')}`);
  const rawPath = rec.path;
  if (!Array.isArray(rawPath)) _bad('path must be an array');
  if (rawPath.length > MAX_PROOF_ITEMS) _bad('path too long');
  const path = (rawPath as unknown[]).map((h, i) => _jsonHash({ [`path[${i}]`]: h }, `path[${i}]`));
  if (rec.kind === ProofKind.LogInclusion) {
    return { kind: 'log-inclusion', hash: rec.hash, treeSize: _jsonSize(rec, 'treeSize'), leafIndex: _jsonSize(rec, 'leafIndex'), leafHash: _jsonHash(rec, 'leafHash'), root: _jsonHash(rec, 'root'), path };
  }
  return { kind: 'log-consistency', hash: rec.hash, size1: _jsonSize(rec, 'size1'), size2: _jsonSize(rec, 'size2'), root1: _jsonHash(rec, 'root1'), root2: _jsonHash(rec, 'root2'), path };
}

/**
 * The binary form: version, kind code, suite code, then the fields big-endian (libs/merkle/README.md, "Append-only log tree").
 * @throws TypeError/RangeError when `proof` is not a well-formed LogProof.
 * @example const bytes = encodeLogProof(proveLogConsistency(log, 1))
 */
export function encodeLogProof(proof: LogProof): Uint8Array {
  _checkProof(proof);
  const w = new ByteWriter().u8(PROOF_FORMAT_VERSION).u8(ProofKindCode[proof.kind]).u8(SuiteCode[proof.hash]);
  if (proof.kind === ProofKind.LogInclusion) w.u64(proof.treeSize).u64(proof.leafIndex).bytes(proof.leafHash).bytes(proof.root);
  else w.u64(proof.size1).u64(proof.size2).bytes(proof.root1).bytes(proof.root2);
  w.u32(proof.path.length);
  for (const p of proof.path) w.bytes(p);
  return w.finish();
}

/**
 * Decodes the binary form strictly (known version, kind and suite; path length bounded and exact; no trailing bytes).
 * @throws TypeError when not a Uint8Array; MerkleError(MALFORMED_INPUT) on anything malformed.
 * @example verifyLogProof(decodeLogProof(bytes))
 */
export function decodeLogProof(bytes: Uint8Array): LogProof {
  const r: ByteReader = new ByteReader(bytes, 'log proof');
  if (r.u8() !== PROOF_FORMAT_VERSION) r.fail('unsupported version');
  const kindCode = r.u8();
  const suiteCode = r.u8();
  const hash = (Object.keys(SuiteCode) as HashSuiteName[]).find((n) => SuiteCode[n] === suiteCode);
  if (hash === undefined) r.fail(`unknown suite code ${suiteCode}`);
  const readPath = (): Uint8Array[] => {
    const n = r.u32();
    if (n > MAX_PROOF_ITEMS) r.fail('path too long');
    if (r.remaining !== n * 32) r.fail(r.remaining < n * 32 ? 'truncated' : 'trailing bytes');
    const path: Uint8Array[] = [];
    for (let i = 0; i < n; i++) path.push(r.bytes(32));
    r.end();
    return path;
  };
  if (kindCode === ProofKindCode[ProofKind.LogInclusion]) {
    const treeSize = r.u64();
    const leafIndex = r.u64();
    const leafHash = r.bytes(32);
    const root = r.bytes(32);
    return { kind: 'log-inclusion', hash, treeSize, leafIndex, leafHash, root, path: readPath() };
  }
  if (kindCode === ProofKindCode[ProofKind.LogConsistency]) {
    const size1 = r.u64();
    const size2 = r.u64();
    const root1 = r.bytes(32);
    const root2 = r.bytes(32);
    return { kind: 'log-consistency', hash, size1, size2, root1, root2, path: readPath() };
  }
  return r.fail(`not a log proof kind code ${kindCode}`);
}
