// Lossless conversion between libs/merkle proof documents and the merklesync.v1.Proof wire message.
import { create } from '@bufbuild/protobuf';
import type { HashSuiteName, MapMultiNode as MerkleMultiNode, Proof as MerkleProof } from '@merklesync/merkle';
import { ProtocolError, ProtocolErrorCode } from './errors.ts';
import { HashSuite } from './gen/merklesync/v1/common_pb.ts';
import {
  MapLeafSchema,
  MapMultiNode_MarkerSchema,
  MapMultiNodeSchema,
  ProofSchema,
  type MapMultiNode,
  type Proof,
} from './gen/merklesync/v1/proofs_pb.ts';

const _MAX_ITEMS = 1 << 20; // libs/merkle's MAX_PROOF_ITEMS

function _bad(field: string, why: string): never {
  throw new ProtocolError(ProtocolErrorCode.MalformedMessage, `proof ${field}: ${why}`, { field });
}

/** HashSuite enum value of a libs/merkle suite name. */
function _suiteToWire(name: HashSuiteName): HashSuite {
  if (name === 'sha256') return HashSuite.SHA256;
  if (name === 'blake3') return HashSuite.BLAKE3;
  throw new RangeError(`proof.hash must be sha256 or blake3, got ${String(name)}`);
}

function _suiteFromWire(v: HashSuite): HashSuiteName {
  if (v === HashSuite.SHA256) return 'sha256';
  if (v === HashSuite.BLAKE3) return 'blake3';
  return _bad('hash_suite', `unknown or unset value ${v}`);
}

function _u64(v: bigint, field: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) _bad(field, 'above 2^53 - 1');
  return Number(v);
}

function _h(v: Uint8Array, field: string): Uint8Array {
  if (v.length !== 32) _bad(field, `must be 32 bytes, got ${v.length}`);
  return v;
}

function _hs(v: readonly Uint8Array[], field: string): Uint8Array[] {
  if (v.length > _MAX_ITEMS) _bad(field, `more than ${_MAX_ITEMS} items`);
  return v.map((h, i) => _h(h, `${field}[${i}]`));
}

function _bits(v: readonly number[], field: string): number[] {
  if (v.length > 256) _bad(field, 'more than 256 items');
  return v.map((b, i) => (b <= 255 ? b : _bad(`${field}[${i}]`, 'above 255')));
}

function _nodeToWire(n: MerkleMultiNode): MapMultiNode {
  switch (n.type) {
    case 'hash':
      return create(MapMultiNodeSchema, { node: { case: 'hash', value: n.hash } });
    case 'branch':
      return create(MapMultiNodeSchema, { node: { case: 'branchBit', value: n.bit } });
    case 'entry':
      return create(MapMultiNodeSchema, { node: { case: 'entry', value: create(MapMultiNode_MarkerSchema) } });
    case 'leaf':
      return create(MapMultiNodeSchema, { node: { case: 'leaf', value: create(MapLeafSchema, { key: n.key, value: n.value }) } });
    case 'empty':
      return create(MapMultiNodeSchema, { node: { case: 'empty', value: create(MapMultiNode_MarkerSchema) } });
  }
}

function _nodeFromWire(n: MapMultiNode, field: string): MerkleMultiNode {
  switch (n.node.case) {
    case 'hash':
      return { type: 'hash', hash: _h(n.node.value, `${field}.hash`) };
    case 'branchBit':
      return n.node.value <= 255 ? { type: 'branch', bit: n.node.value } : _bad(`${field}.branch_bit`, 'above 255');
    case 'entry':
      return { type: 'entry' };
    case 'leaf':
      return { type: 'leaf', key: _h(n.node.value.key, `${field}.leaf.key`), value: n.node.value.value };
    case 'empty':
      return { type: 'empty' };
    case undefined:
      return _bad(field, 'no node set');
  }
}

/**
 * The wire form of a libs/merkle proof (any of the five kinds). Fields map one to one; see proofs.proto.
 * @throws RangeError for an unknown hash suite name; TypeError when `proof` is not a proof object.
 * @example toBinary(ProofSchema, proofToMessage(proveLogInclusion(tree, 3)))
 */
export function proofToMessage(proof: MerkleProof): Proof {
  if (typeof proof !== 'object' || proof === null) throw new TypeError('proof must be a libs/merkle proof');
  const hashSuite = _suiteToWire(proof.hash);
  switch (proof.kind) {
    case 'log-inclusion':
      return create(ProofSchema, {
        proof: {
          case: 'logInclusion',
          value: { hashSuite, treeSize: BigInt(proof.treeSize), leafIndex: BigInt(proof.leafIndex), leafHash: proof.leafHash, root: proof.root, path: [...proof.path] },
        },
      });
    case 'log-consistency':
      return create(ProofSchema, {
        proof: {
          case: 'logConsistency',
          value: { hashSuite, size1: BigInt(proof.size1), size2: BigInt(proof.size2), root1: proof.root1, root2: proof.root2, path: [...proof.path] },
        },
      });
    case 'map-membership':
      return create(ProofSchema, {
        proof: {
          case: 'mapMembership',
          value: { hashSuite, root: proof.root, key: proof.key, value: proof.value, bits: [...proof.proof.bits], siblings: [...proof.proof.siblings] },
        },
      });
    case 'map-non-membership': {
      const leaf = proof.proof.leaf;
      return create(ProofSchema, {
        proof: {
          case: 'mapNonMembership',
          value: {
            hashSuite,
            root: proof.root,
            key: proof.key,
            bits: [...proof.proof.bits],
            siblings: [...proof.proof.siblings],
            ...(leaf === null ? {} : { leaf: { key: leaf.key, value: leaf.value } }),
          },
        },
      });
    }
    case 'map-multi':
      return create(ProofSchema, {
        proof: {
          case: 'mapMulti',
          value: {
            hashSuite,
            root: proof.root,
            entries: proof.entries.map((e) => (e.value === null ? { key: e.key } : { key: e.key, value: e.value })),
            nodes: proof.proof.nodes.map(_nodeToWire),
          },
        },
      });
    default:
      throw new TypeError(`proof.kind ${JSON.stringify((proof as { kind?: unknown }).kind)} is not a proof kind`);
  }
}

/**
 * The libs/merkle proof document of a wire proof, ready for `verifyProof`. Checks the shape (suite known,
 * hashes 32 bytes, sizes ≤ 2^53 − 1, bits ≤ 255, lists bounded); whether the proof verifies is
 * `verifyProof`'s question.
 * @throws ProtocolError(MALFORMED_MESSAGE) naming the field for every shape violation.
 * @example verifyProof(proofFromMessage(fromBinary(ProofSchema, bytes)))
 */
export function proofFromMessage(message: Proof): MerkleProof {
  const p = message.proof;
  switch (p.case) {
    case 'logInclusion': {
      const v = p.value;
      return {
        kind: 'log-inclusion',
        hash: _suiteFromWire(v.hashSuite),
        treeSize: _u64(v.treeSize, 'tree_size'),
        leafIndex: _u64(v.leafIndex, 'leaf_index'),
        leafHash: _h(v.leafHash, 'leaf_hash'),
        root: _h(v.root, 'root'),
        path: _hs(v.path, 'path'),
      };
    }
    case 'logConsistency': {
      const v = p.value;
      return {
        kind: 'log-consistency',
        hash: _suiteFromWire(v.hashSuite),
        size1: _u64(v.size1, 'size1'),
        size2: _u64(v.size2, 'size2'),
        root1: _h(v.root1, 'root1'),
        root2: _h(v.root2, 'root2'),
        path: _hs(v.path, 'path'),
      };
    }
    case 'mapMembership': {
      const v = p.value;
      return {
        kind: 'map-membership',
        hash: _suiteFromWire(v.hashSuite),
        root: _h(v.root, 'root'),
        key: _h(v.key, 'key'),
        value: v.value,
        proof: { bits: _bits(v.bits, 'bits'), siblings: _hs(v.siblings, 'siblings') },
      };
    }
    case 'mapNonMembership': {
      const v = p.value;
      return {
        kind: 'map-non-membership',
        hash: _suiteFromWire(v.hashSuite),
        root: _h(v.root, 'root'),
        key: _h(v.key, 'key'),
        proof: {
          bits: _bits(v.bits, 'bits'),
          siblings: _hs(v.siblings, 'siblings'),
          leaf: v.leaf === undefined ? null : { key: _h(v.leaf.key, 'leaf.key'), value: v.leaf.value },
        },
      };
    }
    case 'mapMulti': {
      const v = p.value;
      if (v.entries.length > _MAX_ITEMS) _bad('entries', `more than ${_MAX_ITEMS} items`);
      if (v.nodes.length > _MAX_ITEMS) _bad('nodes', `more than ${_MAX_ITEMS} items`);
      return {
        kind: 'map-multi',
        hash: _suiteFromWire(v.hashSuite),
        root: _h(v.root, 'root'),
        entries: v.entries.map((e, i) => ({ key: _h(e.key, `entries[${i}].key`), value: e.value ?? null })),
        proof: { nodes: v.nodes.map((n, i) => _nodeFromWire(n, `nodes[${i}]`)) },
      };
    }
    case undefined:
      return _bad('proof', 'no proof set');
  }
}
