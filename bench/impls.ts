// Adapters: one per tree implementation, all driven with the same leaves by merkle.bench.ts.
// Each is loaded lazily (dynamic import), so a child process loads only the implementation it measures.
import { createHash } from 'node:crypto';

/** A built tree, ready for proofs. `verify` includes hashing the leaf, so every implementation does the same work. */
export interface BuiltTree {
  prove(i: number): unknown;
  verify(i: number, proof: unknown): boolean;
  /** Sibling-hash bytes in the proof (32 per hash). */
  siblingBytes(proof: unknown): number;
  /** Bytes of the proof in the implementation's own wire format. */
  wireBytes(proof: unknown): number;
}

export interface TreeImpl {
  readonly name: string;
  /** Footnote: what this implementation does differently (shown under the table). */
  readonly note: string;
  /** Largest leaf count run in the full benchmark (undefined = no cap). */
  readonly maxSize?: number;
  /** Untimed preparation of inputs in the implementation's own types; returns the timed build. */
  prepare(leaves: Uint8Array[]): Promise<() => BuiltTree>;
}

const _sha256 = (d: Uint8Array): Buffer => createHash('sha256').update(d).digest();

const merklesyncLog: TreeImpl = {
  name: 'merklesync log',
  note: 'RFC 9162 log tree, SHA-256 with 0x00/0x01 domain separation (fastest backend); wire = binary log-inclusion proof',
  async prepare(leaves) {
    const { LogTree, proveLogInclusion, encodeLogProof, verifyInclusion, getHashSuite, Tag } = await import('@merklesync/merkle');
    const suite = getHashSuite('sha256');
    const leafTag = Uint8Array.of(Tag.LogLeaf);
    return () => {
      const t = new LogTree(suite);
      t.appendMany(leaves);
      const root = t.root();
      const size = t.size;
      type P = ReturnType<typeof proveLogInclusion>;
      return {
        prove: (i) => proveLogInclusion(t, i),
        verify: (i, p) => {
          const lh = suite.digestPrefixed(leafTag, leaves[i]!);
          return verifyInclusion(suite, lh, i, size, (p as P).path, root);
        },
        siblingBytes: (p) => 32 * (p as P).path.length,
        wireBytes: (p) => encodeLogProof(p as P).length,
      };
    };
  },
};

const merklesyncOz: TreeImpl = {
  name: 'merklesync OZ-compat',
  note: 'OzStandardTree: byte-identical to @openzeppelin/merkle-tree StandardMerkleTree (bytes32, Keccak-256); wire = OZ hex JSON',
  async prepare(leaves) {
    const { OzStandardTree } = await import('@merklesync/merkle');
    return () => {
      const t = OzStandardTree.of(leaves);
      const root = t.root;
      return {
        prove: (i) => t.getProof(i),
        verify: (i, p) => OzStandardTree.verify(root, leaves[i]!, p as Uint8Array[]),
        siblingBytes: (p) => 32 * (p as Uint8Array[]).length,
        wireBytes: (p) => JSON.stringify((p as Uint8Array[]).map((x) => '0x' + Buffer.from(x).toString('hex'))).length,
      };
    };
  },
};

const openzeppelin: TreeImpl = {
  name: '@openzeppelin/merkle-tree',
  note: '@openzeppelin/merkle-tree 1.0.8 StandardMerkleTree(bytes32); hex-string nodes, getProof re-verifies each proof; capped at 100k leaves (≈150 ms per 1k leaves here, 1M would take minutes)',
  maxSize: 100_000,
  async prepare(leaves) {
    const { StandardMerkleTree } = await import('@openzeppelin/merkle-tree');
    const values = leaves.map((v) => [v]);
    return () => {
      const t = StandardMerkleTree.of(values, ['bytes32']);
      const root = t.root;
      return {
        prove: (i) => t.getProof(i),
        verify: (i, p) => StandardMerkleTree.verify(root, ['bytes32'], values[i]!, p as string[]),
        siblingBytes: (p) => 32 * (p as string[]).length,
        wireBytes: (p) => JSON.stringify(p).length,
      };
    };
  },
};

const merkletreejs: TreeImpl = {
  name: 'merkletreejs',
  note: 'merkletreejs 0.6.0, sha256 (node:crypto), hashLeaves, sortPairs:false: RFC 6962 shape (odd node promoted) but NO 0x00/0x01 domain separation; wire = getHexProof JSON',
  async prepare(leaves) {
    const { MerkleTree } = await import('merkletreejs');
    const bufs = leaves.map((v) => Buffer.from(v.buffer, v.byteOffset, 32));
    return () => {
      const t = new MerkleTree(bufs, _sha256, { hashLeaves: true, sortPairs: false });
      const root = t.getRoot();
      return {
        prove: (i) => t.getProof(bufs[i]!, i),
        verify: (i, p) => t.verify(p as never, _sha256(bufs[i]!), root),
        siblingBytes: (p) => 32 * (p as unknown[]).length,
        wireBytes: (p) => JSON.stringify((p as { data: Buffer; position: string }[]).map((x) => '0x' + x.data.toString('hex'))).length,
      };
    };
  },
};

/** Tree implementations in table-column order. */
export const TREE_IMPLS: readonly TreeImpl[] = [merklesyncLog, merklesyncOz, openzeppelin, merkletreejs];
