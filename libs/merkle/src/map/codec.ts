import { ByteReader, ByteWriter, fromHex, toHex } from '../bytes.ts';
import { MerkleError, MerkleErrorCode } from '../errors.ts';
import { getHashSuite, isHashSuiteName } from '../hash/index.ts';
import type { HashSuiteName } from '../hash/suite.ts';
import { MAX_PROOF_ITEMS, PROOF_FORMAT_VERSION, ProofKind, ProofKindCode, SuiteCode } from '../proof-format.ts';
import type { MapEntry, MapMembershipProof, MapMultiNode, MapMultiProof, MapNonMembershipProof } from './types.ts';
import { verifyMembership, verifyMultiProof, verifyNonMembership } from './verify.ts';

/** A self-contained map proof: what is claimed, under which root and suite, and the proof. */
export type MapProofDocument =
  | {
      readonly kind: 'map-membership';
      readonly hash: HashSuiteName;
      readonly root: Uint8Array;
      readonly key: Uint8Array;
      readonly value: Uint8Array;
      readonly proof: MapMembershipProof;
    }
  | {
      readonly kind: 'map-non-membership';
      readonly hash: HashSuiteName;
      readonly root: Uint8Array;
      readonly key: Uint8Array;
      readonly proof: MapNonMembershipProof;
    }
  | {
      readonly kind: 'map-multi';
      readonly hash: HashSuiteName;
      readonly root: Uint8Array;
      readonly entries: readonly MapEntry[];
      readonly proof: MapMultiProof;
    };

/** Multiproof node type codes of the binary form. */
const _NODE_CODE = { hash: 0, branch: 1, entry: 2, leaf: 3, empty: 4 } as const;
const _NODE_TYPES = ['hash', 'branch', 'entry', 'leaf', 'empty'] as const;

const _bad = (reason: string): never => {
  throw new MerkleError(MerkleErrorCode.MalformedInput, `map proof: ${reason}`);
};

/**
 * JSON form of a map proof (byte strings as lowercase hex; see libs/merkle/README.md, "Authenticated map").
 * @throws TypeError when `doc` is not a map proof document.
 * @example JSON.stringify(encodeMapProofJson({ kind: 'map-membership', hash: 'sha256', root, key, value, proof }))
 */
export function encodeMapProofJson(doc: MapProofDocument): Record<string, unknown> {
  const head = { v: PROOF_FORMAT_VERSION, kind: doc.kind, hash: doc.hash, root: toHex(doc.root) };
  switch (doc.kind) {
    case 'map-membership':
      return {
        ...head,
        key: toHex(doc.key),
        value: toHex(doc.value),
        bits: [...doc.proof.bits],
        siblings: doc.proof.siblings.map(toHex),
      };
    case 'map-non-membership': {
      const leaf = doc.proof.leaf;
      return {
        ...head,
        key: toHex(doc.key),
        bits: [...doc.proof.bits],
        siblings: doc.proof.siblings.map(toHex),
        leaf: leaf === null ? null : { key: toHex(leaf.key), value: toHex(leaf.value) },
      };
    }
    case 'map-multi':
      return {
        ...head,
        entries: doc.entries.map((e) => ({ key: toHex(e.key), value: e.value === null ? null : toHex(e.value) })),
        nodes: doc.proof.nodes.map((n): Record<string, unknown> => {
          switch (n.type) {
            case 'hash':
              return { type: 'hash', hash: toHex(n.hash) };
            case 'branch':
              return { type: 'branch', bit: n.bit };
            case 'leaf':
              return { type: 'leaf', key: toHex(n.key), value: toHex(n.value) };
            default:
              return { type: n.type };
          }
        }),
      };
    default:
      throw new TypeError('doc must be a map proof document');
  }
}

function _obj(v: unknown, what: string, fields: readonly string[]): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) _bad(`${what} must be an object`);
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!fields.includes(k)) _bad(`unexpected field ${what}.${k}`);
  for (const k of fields) if (!(k in o)) _bad(`missing field ${what}.${k}`);
  return o;
}

function _hex(v: unknown, what: string, len?: number): Uint8Array {
  if (typeof v !== 'string' || !/^[0-9a-f]*$/.test(v)) _bad(`${what} must be lowercase hex`);
  const b = fromHex(v as string, what);
  if (len !== undefined && b.length !== len) _bad(`${what} must be ${len} bytes`);
  return b;
}

function _list(v: unknown, what: string, max: number): unknown[] {
  if (!Array.isArray(v)) _bad(`${what} must be an array`);
  if ((v as unknown[]).length > max) _bad(`${what} has too many items`);
  return v as unknown[];
}

function _bit(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 255) _bad(`${what} must be an integer 0..255`);
  return v as number;
}

/**
 * Parses the JSON form (a string or an already parsed value) of any map proof.
 * @throws MerkleError(MALFORMED_INPUT) for invalid JSON, a wrong version/kind/suite, or a field of the wrong form.
 * @example const doc = decodeMapProofJson(text); verifyMapProof(doc)
 */
export function decodeMapProofJson(json: unknown): MapProofDocument {
  let v = json;
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v);
    } catch {
      _bad('not JSON');
    }
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) _bad('must be an object');
  const o0 = v as Record<string, unknown>;
  if (o0.v !== PROOF_FORMAT_VERSION) _bad('unsupported version');
  if (!isHashSuiteName(o0.hash)) _bad('unknown hash suite');
  const hash = o0.hash as HashSuiteName;
  const path = (o: Record<string, unknown>): { bits: number[]; siblings: Uint8Array[] } => {
    const bits = _list(o.bits, 'bits', 256).map((b, i) => _bit(b, `bits[${i}]`));
    const siblings = _list(o.siblings, 'siblings', 256).map((s, i) => _hex(s, `siblings[${i}]`, 32));
    if (bits.length !== siblings.length) _bad('bits and siblings differ in length');
    return { bits, siblings };
  };
  switch (o0.kind) {
    case ProofKind.MapMembership: {
      const o = _obj(v, 'proof', ['v', 'kind', 'hash', 'root', 'key', 'value', 'bits', 'siblings']);
      return {
        kind: 'map-membership',
        hash,
        root: _hex(o.root, 'root', 32),
        key: _hex(o.key, 'key', 32),
        value: _hex(o.value, 'value'),
        proof: path(o),
      };
    }
    case ProofKind.MapNonMembership: {
      const o = _obj(v, 'proof', ['v', 'kind', 'hash', 'root', 'key', 'bits', 'siblings', 'leaf']);
      let leaf: { key: Uint8Array; value: Uint8Array } | null = null;
      if (o.leaf !== null) {
        const l = _obj(o.leaf, 'leaf', ['key', 'value']);
        leaf = { key: _hex(l.key, 'leaf.key', 32), value: _hex(l.value, 'leaf.value') };
      }
      return {
        kind: 'map-non-membership',
        hash,
        root: _hex(o.root, 'root', 32),
        key: _hex(o.key, 'key', 32),
        proof: { ...path(o), leaf },
      };
    }
    case ProofKind.MapMulti: {
      const o = _obj(v, 'proof', ['v', 'kind', 'hash', 'root', 'entries', 'nodes']);
      const entries = _list(o.entries, 'entries', MAX_PROOF_ITEMS).map((e, i): MapEntry => {
        const x = _obj(e, `entries[${i}]`, ['key', 'value']);
        return { key: _hex(x.key, `entries[${i}].key`, 32), value: x.value === null ? null : _hex(x.value, `entries[${i}].value`) };
      });
      const nodes = _list(o.nodes, 'nodes', MAX_PROOF_ITEMS).map((n, i): MapMultiNode => {
        const what = `nodes[${i}]`;
        const t = typeof n === 'object' && n !== null ? (n as Record<string, unknown>).type : undefined;
        switch (t) {
          case 'hash':
            return { type: 'hash', hash: _hex(_obj(n, what, ['type', 'hash']).hash, `${what}.hash`, 32) };
          case 'branch':
            return { type: 'branch', bit: _bit(_obj(n, what, ['type', 'bit']).bit, `${what}.bit`) };
          case 'leaf': {
            const x = _obj(n, what, ['type', 'key', 'value']);
            return { type: 'leaf', key: _hex(x.key, `${what}.key`, 32), value: _hex(x.value, `${what}.value`) };
          }
          case 'entry':
          case 'empty':
            _obj(n, what, ['type']);
            return { type: t };
          default:
            return _bad(`${what} has an unknown type`);
        }
      });
      return { kind: 'map-multi', hash, root: _hex(o.root, 'root', 32), entries, proof: { nodes } };
    }
    default:
      return _bad('not a map proof kind');
  }
}

function _writePath(w: ByteWriter, p: { bits: readonly number[]; siblings: readonly Uint8Array[] }): void {
  w.u16(p.bits.length);
  for (let i = 0; i < p.bits.length; i++) w.u8(p.bits[i]!).bytes(p.siblings[i]!);
}

/**
 * Binary form of a map proof (layouts in libs/merkle/README.md, "Authenticated map").
 * @throws TypeError when `doc` is not a map proof document; RangeError when a path is longer than 256.
 * @example const bytes = encodeMapProofBinary(doc)
 */
export function encodeMapProofBinary(doc: MapProofDocument): Uint8Array {
  const w = new ByteWriter();
  if (!isHashSuiteName(doc.hash)) throw new TypeError('doc.hash must be a hash suite name');
  w.u8(PROOF_FORMAT_VERSION).u8(ProofKindCode[doc.kind]).u8(SuiteCode[doc.hash]).bytes(doc.root);
  switch (doc.kind) {
    case 'map-membership':
      if (doc.proof.bits.length > 256) throw new RangeError('proof path longer than 256');
      w.bytes(doc.key).u32(doc.value.length).bytes(doc.value);
      _writePath(w, doc.proof);
      break;
    case 'map-non-membership': {
      if (doc.proof.bits.length > 256) throw new RangeError('proof path longer than 256');
      w.bytes(doc.key);
      _writePath(w, doc.proof);
      const leaf = doc.proof.leaf;
      if (leaf === null) w.u8(0);
      else w.u8(1).bytes(leaf.key).u32(leaf.value.length).bytes(leaf.value);
      break;
    }
    case 'map-multi':
      w.u32(doc.entries.length);
      for (const e of doc.entries) {
        w.bytes(e.key);
        if (e.value === null) w.u8(0);
        else w.u8(1).u32(e.value.length).bytes(e.value);
      }
      w.u32(doc.proof.nodes.length);
      for (const n of doc.proof.nodes) {
        w.u8(_NODE_CODE[n.type]);
        if (n.type === 'hash') w.bytes(n.hash);
        else if (n.type === 'branch') w.u8(n.bit);
        else if (n.type === 'leaf') w.bytes(n.key).u32(n.value.length).bytes(n.value);
      }
      break;
    default:
      throw new TypeError('doc must be a map proof document');
  }
  return w.finish();
}

/**
 * Parses the binary form of any map proof.
 * @throws MerkleError(MALFORMED_INPUT) when truncated, with trailing bytes, or with an unknown version/kind/suite/code.
 * @example verifyMapProof(decodeMapProofBinary(bytes))
 */
export function decodeMapProofBinary(bytes: Uint8Array): MapProofDocument {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes must be a Uint8Array');
  const r = new ByteReader(bytes, 'map proof');
  if (r.u8() !== PROOF_FORMAT_VERSION) r.fail('unsupported version');
  const kc = r.u8();
  const sc = r.u8();
  const hash = (Object.keys(SuiteCode) as HashSuiteName[]).find((k) => SuiteCode[k] === sc);
  if (hash === undefined) r.fail('unknown hash suite code');
  const root = r.bytes(32);
  const value = (): Uint8Array => r.bytes(r.u32());
  const path = (): { bits: number[]; siblings: Uint8Array[] } => {
    const n = r.u16();
    if (n > 256) r.fail('path longer than 256');
    const bits: number[] = [];
    const siblings: Uint8Array[] = [];
    for (let i = 0; i < n; i++) {
      bits.push(r.u8());
      siblings.push(r.bytes(32));
    }
    return { bits, siblings };
  };
  let doc: MapProofDocument;
  if (kc === ProofKindCode['map-membership']) {
    const key = r.bytes(32);
    const v = value();
    doc = { kind: 'map-membership', hash: hash!, root, key, value: v, proof: path() };
  } else if (kc === ProofKindCode['map-non-membership']) {
    const key = r.bytes(32);
    const p = path();
    const flag = r.u8();
    let leaf: { key: Uint8Array; value: Uint8Array } | null = null;
    if (flag === 1) {
      const lk = r.bytes(32);
      leaf = { key: lk, value: value() };
    } else if (flag !== 0) r.fail('bad leaf flag');
    doc = { kind: 'map-non-membership', hash: hash!, root, key, proof: { ...p, leaf } };
  } else if (kc === ProofKindCode['map-multi']) {
    const ne = r.u32();
    if (ne > MAX_PROOF_ITEMS) r.fail('too many entries');
    const entries: MapEntry[] = [];
    for (let i = 0; i < ne; i++) {
      const key = r.bytes(32);
      const flag = r.u8();
      if (flag > 1) r.fail('bad entry flag');
      entries.push({ key, value: flag === 1 ? value() : null });
    }
    const nn = r.u32();
    if (nn > MAX_PROOF_ITEMS) r.fail('too many nodes');
    const nodes: MapMultiNode[] = [];
    for (let i = 0; i < nn; i++) {
      const t = _NODE_TYPES[r.u8()];
      if (t === undefined) r.fail('unknown node type');
      if (t === 'hash') nodes.push({ type: 'hash', hash: r.bytes(32) });
      else if (t === 'branch') nodes.push({ type: 'branch', bit: r.u8() });
      else if (t === 'leaf') {
        const key = r.bytes(32);
        nodes.push({ type: 'leaf', key, value: value() });
      } else nodes.push({ type: t! });
    }
    doc = { kind: 'map-multi', hash: hash!, root, entries, proof: { nodes } };
  } else {
    return r.fail('not a map proof kind');
  }
  r.end();
  return doc;
}

/**
 * Verifies a decoded map proof with the suite it names. Never throws; false for anything malformed.
 * @throws nothing.
 * @example verifyMapProof(decodeMapProofJson(text)) // true
 */
export function verifyMapProof(doc: MapProofDocument): boolean {
  try {
    if (typeof doc !== 'object' || doc === null || !isHashSuiteName(doc.hash)) return false;
    const suite = getHashSuite(doc.hash);
    switch (doc.kind) {
      case 'map-membership':
        return verifyMembership(suite, doc.root, doc.key, doc.value, doc.proof);
      case 'map-non-membership':
        return verifyNonMembership(suite, doc.root, doc.key, doc.proof);
      case 'map-multi':
        return verifyMultiProof(suite, doc.root, doc.entries, doc.proof);
      default:
        return false;
    }
  } catch {
    return false;
  }
}
