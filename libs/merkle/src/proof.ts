import { MerkleError, MerkleErrorCode } from './errors.ts';
import { decodeLogProof, encodeLogProof, logProofFromJson, logProofToJson, verifyLogProof, type LogProof } from './log/index.ts';
import {
  decodeMapProofBinary,
  decodeMapProofJson,
  encodeMapProofBinary,
  encodeMapProofJson,
  verifyMapProof,
  type MapProofDocument,
} from './map/index.ts';
import { ProofKind, ProofKindCode } from './proof-format.ts';

/** Any self-contained proof this library produces: it names its kind, hash suite and root(s). */
export type Proof = LogProof | MapProofDocument;

const _LOG_KINDS: readonly string[] = [ProofKind.LogInclusion, ProofKind.LogConsistency];
const _MAP_KINDS: readonly string[] = [ProofKind.MapMembership, ProofKind.MapNonMembership, ProofKind.MapMulti];

function _isLog(p: Proof): p is LogProof {
  return _LOG_KINDS.includes(p.kind);
}

/**
 * Parses the JSON form of any proof kind (a string or an already-parsed value), dispatching on `kind`.
 * @throws MerkleError(MALFORMED_INPUT) for invalid JSON, an unknown kind, or a malformed proof.
 * @example verifyProof(proofFromJson(fs.readFileSync('proof.json', 'utf8')))
 */
export function proofFromJson(json: unknown): Proof {
  let value = json;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch (e) {
      throw new MerkleError(MerkleErrorCode.MalformedInput, `proof: not JSON (${(e as Error).message})`);
    }
  }
  const kind = typeof value === 'object' && value !== null ? (value as { kind?: unknown }).kind : undefined;
  if (typeof kind === 'string' && _LOG_KINDS.includes(kind)) return logProofFromJson(value);
  if (typeof kind === 'string' && _MAP_KINDS.includes(kind)) return decodeMapProofJson(value);
  throw new MerkleError(MerkleErrorCode.MalformedInput, `proof: unknown kind ${JSON.stringify(kind) ?? 'undefined'}`);
}

/**
 * The JSON form (a plain object ready for JSON.stringify) of any proof.
 * @throws TypeError/RangeError when `proof` is not a well-formed proof object.
 * @example JSON.stringify(proofToJson(proof), null, 2)
 */
export function proofToJson(proof: Proof): object {
  return _isLog(proof) ? logProofToJson(proof) : encodeMapProofJson(proof);
}

/**
 * The binary form of any proof (layouts in libs/merkle/README.md).
 * @throws TypeError/RangeError when `proof` is not a well-formed proof object.
 * @example const bytes = encodeProof(proof)
 */
export function encodeProof(proof: Proof): Uint8Array {
  return _isLog(proof) ? encodeLogProof(proof) : encodeMapProofBinary(proof);
}

/**
 * Decodes the binary form of any proof kind, dispatching on the kind byte.
 * @throws TypeError when not a Uint8Array; MerkleError(MALFORMED_INPUT) on anything malformed.
 * @example verifyProof(decodeProof(bytes))
 */
export function decodeProof(bytes: Uint8Array): Proof {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes must be a Uint8Array');
  const code = bytes[1];
  if (code === ProofKindCode['log-inclusion'] || code === ProofKindCode['log-consistency']) return decodeLogProof(bytes);
  if (code === ProofKindCode['map-membership'] || code === ProofKindCode['map-non-membership'] || code === ProofKindCode['map-multi']) {
    return decodeMapProofBinary(bytes);
  }
  throw new MerkleError(MerkleErrorCode.MalformedInput, `proof: unknown kind code ${String(code)}`);
}

/**
 * Verifies any proof against the root(s) it names, with the hash suite it names. Never throws: false for
 * every proof that does not verify, including structurally malformed ones.
 * @example if (!verifyProof(proofFromJson(text))) reject()
 */
export function verifyProof(proof: Proof): boolean {
  try {
    if (typeof proof !== 'object' || proof === null) return false;
    if (_isLog(proof)) return verifyLogProof(proof);
    if (_MAP_KINDS.includes((proof as { kind: string }).kind)) return verifyMapProof(proof);
    return false;
  } catch {
    // The kind verifiers already return false on malformed input; this guards objects built by hand.
    return false;
  }
}
