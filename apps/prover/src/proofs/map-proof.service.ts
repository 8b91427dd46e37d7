// Map proofs (membership, non-membership, multiproof) for one table, read through the node cache, anchored in a
// checkpoint: the proof is made against the table root that checkpoint committed to (libs/store
// checkpoint_tables; old map nodes are never deleted) and carries that root's inclusion in the checkpoint's
// state root (libs/protocol proveTableRoot).
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
import { proveTableRoot, stateRoot, type TableRootInclusion, type TableState } from '@merklesync/protocol';
import { prefetchMapPath, type StoredCheckpoint } from '@merklesync/store';
import type { ProverConfig } from '../config.ts';
import { ProverError, ProverStatus } from '../errors.ts';
import type { CheckpointTablesReader, TableRootsReader } from '../store/ports.ts';
import { CHECKPOINT_TABLES, MAP_NODES, PROVER_CONFIG, TABLE_ROOTS } from '../tokens.ts';
import { CheckpointService } from './checkpoint.service.ts';

/** Which map to prove against. */
export interface MapTarget {
  readonly source: string;
  readonly table: string;
  /** Checkpoint to anchor in; 0 = the latest. Ignored when `root` is given. */
  readonly checkpointSeq: number;
  /** An explicit (e.g. historical) map root to prove against instead of a checkpoint's. */
  readonly root?: Uint8Array;
}

/** A map proof and, unless an explicit root was asked for (or no checkpoint exists yet), its anchor. */
export interface MapProofAnswer {
  readonly proof: MapProofDocument;
  readonly anchor?: { readonly checkpoint: StoredCheckpoint; readonly tableRoot: TableRootInclusion };
}

interface _Resolved {
  readonly root: Uint8Array;
  readonly explicit: boolean;
  readonly anchor?: MapProofAnswer['anchor'];
}

/** Table-root proofs kept per (checkpoint, table): they never change. */
const _ANCHOR_CACHE = 4096;

/**
 * Proves keys of a table's map at a checkpoint (the latest by default): against the table root the checkpoint
 * committed to, with that root's inclusion proof in the checkpoint's state root. So every anchored answer is
 * checkable against a signed checkpoint, whatever changed since. Before the first checkpoint, proofs are made
 * at the table's current root, unanchored. A client wanting another version names its root (nodes are
 * content-addressed and never deleted).
 * @example const { proof, anchor } = await maps.prove({ source: 'pg', table: 'public.users', checkpointSeq: 0 }, key)
 */
@Injectable()
export class MapProofService {
  private readonly suite: HashSuite;
  private readonly maxMultiKeys: number;
  private readonly logId: string;
  private readonly nodes: AsyncMapNodeSource;
  private readonly roots: TableRootsReader;
  private readonly tablesAt: CheckpointTablesReader;
  private readonly checkpoints: CheckpointService;
  private readonly anchors = new Map<string, TableRootInclusion>();

  constructor(
    @Inject(PROVER_CONFIG) config: ProverConfig,
    @Inject(MAP_NODES) nodes: AsyncMapNodeSource,
    @Inject(TABLE_ROOTS) roots: TableRootsReader,
    @Inject(CHECKPOINT_TABLES) tablesAt: CheckpointTablesReader,
    @Inject(CheckpointService) checkpoints: CheckpointService,
  ) {
    this.suite = getHashSuite(config.suite);
    this.maxMultiKeys = config.maxMultiKeys;
    this.logId = config.logId;
    this.nodes = nodes;
    this.roots = roots;
    this.tablesAt = tablesAt;
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
    await prefetchMapPath(this.nodes, r.root, key); // the key's path in one query, not one per trie level
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
    const checkpoint = await this.checkpoints.resolve(t.checkpointSeq);
    if (checkpoint === undefined) return this._current(t); // no checkpoint yet
    const tables = await this.tablesAt.tableRootsAt(this.logId, checkpoint.seq);
    if (tables === undefined) return this._legacy(t, checkpoint);
    const anchor = this._anchor(checkpoint, tables, t);
    return { root: anchor.tableRoot.tableRoot, explicit: false, anchor };
  }

  /** The anchor of `t` in `checkpoint` from the roots it committed to; cached (immutable). */
  private _anchor(checkpoint: StoredCheckpoint, tables: readonly TableState[], t: MapTarget): NonNullable<MapProofAnswer['anchor']> {
    const k = `${checkpoint.seq}\u0000${t.source}\u0000${t.table}`;
    let tableRoot = this.anchors.get(k);
    if (tableRoot === undefined) {
      tableRoot = proveTableRoot(this.suite, tables, t.source, t.table);
      if (tableRoot === undefined) throw new ProverError(ProverStatus.NotFound, `no table ${t.source}/${t.table} in checkpoint ${checkpoint.seq}`);
      // The stored roots must be the ones the signed state root commits to, or the anchor would not verify.
      if (!equalBytes(tableRoot.stateRoot, checkpoint.stateRoot)) {
        throw new ProverError(ProverStatus.Internal, `stored table roots of checkpoint ${checkpoint.seq} do not reproduce its state root`);
      }
      this.anchors.set(k, tableRoot);
      if (this.anchors.size > _ANCHOR_CACHE) this.anchors.delete(this.anchors.keys().next().value!);
    }
    return { checkpoint, tableRoot };
  }

  /** The table's current root (unanchored). */
  private async _current(t: MapTarget): Promise<_Resolved & { all: readonly TableState[] }> {
    const all = await this.roots.tableRoots();
    const entry = all.find((r) => r.source === t.source && r.table === t.table);
    if (entry === undefined) throw new ProverError(ProverStatus.NotFound, `unknown table ${t.source}/${t.table}`);
    if (entry.suite !== this.suite.name) {
      throw new ProverError(ProverStatus.Internal, `table ${t.source}/${t.table} uses ${entry.suite}, the prover ${this.suite.name}`);
    }
    return { root: entry.root, explicit: false, all };
  }

  /**
   * A checkpoint stored before its table roots were recorded (libs/store migration 2): the current root,
   * anchored only when the current roots hash to its state root (nothing changed since); otherwise unanchored
   * for "the latest" and NOT_FOUND for an explicit sequence.
   */
  private async _legacy(t: MapTarget, checkpoint: StoredCheckpoint): Promise<_Resolved> {
    const cur = await this._current(t);
    if (!equalBytes(stateRoot(this.suite, cur.all), checkpoint.stateRoot)) {
      if (t.checkpointSeq > 0) throw new ProverError(ProverStatus.NotFound, `the table roots of checkpoint ${checkpoint.seq} were not recorded`);
      return { root: cur.root, explicit: false };
    }
    return { root: cur.root, explicit: false, anchor: this._anchor(checkpoint, cur.all, t) };
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
