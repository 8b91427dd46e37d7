// Map proofs (membership, non-membership, multiproof) for one table, read through the node cache, and their
// anchoring in a checkpoint's state root when the stored table roots allow it.
import { Inject, Injectable } from '@nestjs/common';
import {
  MerkleError,
  MerkleErrorCode,
  equalBytes,
  getHashSuite,
  mapProve,
  mapProveMulti,
  runMapReadAsync,
  type AsyncMapNodeSource,
  type HashSuite,
  type MapProofDocument,
  type MapRead,
} from '@merklesync/merkle';
import { stateRoot } from '@merklesync/protocol';
import type { StoredCheckpoint, StoredTableRoot } from '@merklesync/store';
import type { ProverConfig } from '../config.ts';
import { ProverError, ProverStatus } from '../errors.ts';
import type { TableRootsReader } from '../store/ports.ts';
import { MAP_NODES, PROVER_CONFIG, TABLE_ROOTS } from '../tokens.ts';
import { CheckpointService } from './checkpoint.service.ts';
import { tableRootInclusion, type TableRootInclusion } from './table-root-proof.ts';

/** Which map to prove against. */
export interface MapTarget {
  readonly source: string;
  readonly table: string;
  /** Checkpoint to anchor in; 0 = the latest. Ignored when `root` is given. */
  readonly checkpointSeq: number;
  /** An explicit (e.g. historical) map root to prove against instead of the table's current root. */
  readonly root?: Uint8Array;
}

/** A map proof and, when the table roots reproduce the checkpoint's state root, its anchor. */
export interface MapProofAnswer {
  readonly proof: MapProofDocument;
  readonly anchor?: { readonly checkpoint: StoredCheckpoint; readonly tableRoot: TableRootInclusion };
}

interface _Resolved {
  readonly root: Uint8Array;
  readonly explicit: boolean;
  readonly anchor?: MapProofAnswer['anchor'];
}

/**
 * Proves keys of a table's map. The store keeps only the CURRENT root per table (not one per checkpoint), so
 * proofs are made at the current root; they are anchored in the requested checkpoint (latest by default) only
 * when the current roots hash to that checkpoint's state root, i.e. no table changed since it was signed.
 * A client wanting a historical version names the root it holds (nodes are content-addressed and never deleted).
 * @example const { proof, anchor } = await maps.prove({ source: 'pg', table: 'public.users', checkpointSeq: 0 }, key)
 */
@Injectable()
export class MapProofService {
  private readonly suite: HashSuite;
  private readonly maxMultiKeys: number;
  private readonly nodes: AsyncMapNodeSource;
  private readonly roots: TableRootsReader;
  private readonly checkpoints: CheckpointService;

  constructor(
    @Inject(PROVER_CONFIG) config: ProverConfig,
    @Inject(MAP_NODES) nodes: AsyncMapNodeSource,
    @Inject(TABLE_ROOTS) roots: TableRootsReader,
    @Inject(CheckpointService) checkpoints: CheckpointService,
  ) {
    this.suite = getHashSuite(config.suite);
    this.maxMultiKeys = config.maxMultiKeys;
    this.nodes = nodes;
    this.roots = roots;
    this.checkpoints = checkpoints;
  }

  /**
   * Membership proof when `key` is in the map, non-membership proof otherwise.
   * @throws ProverError: INVALID_ARGUMENT (bad names, key not 32 bytes), NOT_FOUND (unknown table, checkpoint
   *   or root); StoreError(DATABASE).
   */
  async prove(target: MapTarget, key: Uint8Array): Promise<MapProofAnswer> {
    _checkKey(key, 'map_key');
    const r = await this._resolve(target);
    const p = await this._read(r, () => mapProve(this.suite, r.root, key));
    const hash = this.suite.name;
    const proof: MapProofDocument =
      p.kind === 'map-membership'
        ? { kind: 'map-membership', hash, root: r.root, key, value: p.value, proof: p.proof }
        : { kind: 'map-non-membership', hash, root: r.root, key, proof: p.proof };
    return r.anchor === undefined ? { proof } : { proof, anchor: r.anchor };
  }

  /**
   * One multiproof for `keys` (present and absent mixed; duplicates collapse).
   * @throws as {@link prove}; INVALID_ARGUMENT for no keys or more than the configured maximum.
   */
  async proveMulti(target: MapTarget, keys: readonly Uint8Array[]): Promise<MapProofAnswer> {
    if (keys.length === 0 || keys.length > this.maxMultiKeys) {
      throw new ProverError(ProverStatus.InvalidArgument, `map_keys must hold 1 to ${this.maxMultiKeys} keys, got ${keys.length}`);
    }
    keys.forEach((k, i) => _checkKey(k, `map_keys[${i}]`));
    const r = await this._resolve(target);
    const m = await this._read(r, () => mapProveMulti(this.suite, r.root, keys));
    const proof: MapProofDocument = { kind: 'map-multi', hash: this.suite.name, root: r.root, entries: m.entries, proof: m.proof };
    return r.anchor === undefined ? { proof } : { proof, anchor: r.anchor };
  }

  private async _read<T>(r: _Resolved, read: () => MapRead<T>): Promise<T> {
    try {
      return await runMapReadAsync(read(), this.nodes);
    } catch (e) {
      // Under a root the client named, a missing node means the root is not one of ours.
      if (r.explicit && e instanceof MerkleError && e.code === MerkleErrorCode.NodeNotFound) {
        throw new ProverError(ProverStatus.NotFound, 'map root not found in the store');
      }
      throw e;
    }
  }

  private async _resolve(t: MapTarget): Promise<_Resolved> {
    _checkName(t.source, 'source');
    _checkName(t.table, 'table');
    if (t.root !== undefined) {
      if (t.root.length !== 32) throw new ProverError(ProverStatus.InvalidArgument, 'map root must be 32 bytes');
      if (t.checkpointSeq > 0) throw new ProverError(ProverStatus.InvalidArgument, 'give a map root or a checkpoint_sequence, not both');
      return { root: t.root, explicit: true };
    }
    const [all, checkpoint] = await Promise.all([this.roots.tableRoots(), this.checkpoints.resolve(t.checkpointSeq)]);
    const entry = all.find((r) => r.source === t.source && r.table === t.table);
    if (entry === undefined) throw new ProverError(ProverStatus.NotFound, `unknown table ${t.source}/${t.table}`);
    if (entry.suite !== this.suite.name) {
      throw new ProverError(ProverStatus.Internal, `table ${t.source}/${t.table} uses ${entry.suite}, the prover ${this.suite.name}`);
    }
    return { root: entry.root, explicit: false, ...this._anchor(all, checkpoint, t) };
  }

  /** The anchor when the current roots ARE the checkpoint's (their state root is the one it signed). */
  private _anchor(all: readonly StoredTableRoot[], checkpoint: StoredCheckpoint | undefined, t: MapTarget): { anchor?: MapProofAnswer['anchor'] } {
    if (checkpoint === undefined || !equalBytes(stateRoot(this.suite, all), checkpoint.stateRoot)) return {};
    const tableRoot = tableRootInclusion(this.suite, all, t.source, t.table);
    return tableRoot === undefined ? {} : { anchor: { checkpoint, tableRoot } };
  }
}

const _utf8 = new TextEncoder();

function _checkName(v: string, field: string): void {
  const n = _utf8.encode(v).length;
  if (n < 1 || n > 255) throw new ProverError(ProverStatus.InvalidArgument, `${field} must be 1..255 UTF-8 bytes`);
}

function _checkKey(k: Uint8Array, field: string): void {
  if (k.length !== 32) throw new ProverError(ProverStatus.InvalidArgument, `${field} must be 32 bytes, got ${k.length}`);
}
