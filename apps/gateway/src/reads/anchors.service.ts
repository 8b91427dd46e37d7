// Resolves the checkpoint a read is proven against, with the table roots it commits to (libs/store
// checkpoint_tables), and proves one table's root inside its state root (libs/protocol proveTableRoot).
import { Inject, Injectable } from '@nestjs/common';
import { equalBytes, getHashSuite, type HashSuite } from '@merklesync/merkle';
import { proveTableRoot, type TableRootInclusion } from '@merklesync/protocol';
import type { StoredCheckpoint } from '@merklesync/store';
import type { GatewayConfig } from '../config.ts';
import { GatewayError, GatewayErrorCode } from '../errors.ts';
import type { CheckpointReader, CheckpointTable } from '../store/ports.ts';
import { CHECKPOINTS, GATEWAY_CONFIG } from '../tokens.ts';

/** A checkpoint with the table roots its state root commits to. */
export interface Anchor {
  readonly checkpoint: StoredCheckpoint;
  readonly tables: readonly CheckpointTable[];
}

/** One table inside an anchor: its root and the root's inclusion in the checkpoint's state root. */
export interface AnchoredTable {
  readonly root: Uint8Array;
  readonly inclusion: TableRootInclusion;
}

/** Anchors kept in memory (each holds one root per table; a busy edge reads the last few checkpoints). */
const _ANCHORS_KEPT = 64;

/**
 * Checkpoint anchors for map reads.
 * @example const a = await anchors.resolve(0); const t = anchors.table(a, 'pg', 'public.users')
 */
@Injectable()
export class AnchorsService {
  private readonly suite: HashSuite;
  private readonly chain: CheckpointReader;
  /** Resolved anchors by checkpoint number, oldest first (bounded). */
  private readonly anchors = new Map<number, Anchor>();

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig, @Inject(CHECKPOINTS) chain: CheckpointReader) {
    this.suite = getHashSuite(config.suite);
    this.chain = chain;
  }

  /**
   * Checkpoint `seq` (0 = the latest) without its tables.
   * @throws GatewayError NOT_FOUND (no such checkpoint, or none yet).
   */
  async checkpoint(seq: number): Promise<StoredCheckpoint> {
    const cp = seq === 0 ? await this.chain.latest() : await this.chain.bySeq(seq);
    if (cp === undefined) throw new GatewayError(GatewayErrorCode.NotFound, seq === 0 ? 'no checkpoint yet' : `no checkpoint ${seq}`);
    return cp;
  }

  /**
   * Checkpoint `seq` (0 = the latest) and its table roots.
   * @throws GatewayError NOT_FOUND (no such checkpoint); CONFLICT (its table roots were not recorded, so map
   *   reads cannot be anchored in it); INTERNAL (the recorded roots do not hash to its state root).
   */
  async resolve(seq: number): Promise<Anchor> {
    // A stored checkpoint and its table roots never change (the chain is append-only): a numbered one is served
    // from memory after its first read. The latest is looked up every time, then cached under its number.
    const hit = seq === 0 ? undefined : this.anchors.get(seq);
    if (hit !== undefined) return hit;
    const checkpoint = await this.checkpoint(seq);
    const known = this.anchors.get(checkpoint.seq);
    if (known !== undefined) return known;
    const tables = await this.chain.tableRootsAt(checkpoint.seq);
    if (tables === undefined) {
      throw new GatewayError(GatewayErrorCode.Conflict, `checkpoint ${checkpoint.seq} has no recorded table roots (written before they were kept); use a later checkpoint`);
    }
    const anchor = { checkpoint, tables };
    if (this.anchors.size >= _ANCHORS_KEPT) this.anchors.delete(this.anchors.keys().next().value!);
    this.anchors.set(checkpoint.seq, anchor);
    return anchor;
  }

  /**
   * The root of (source, table) in `anchor` with its inclusion proof.
   * @throws GatewayError NOT_FOUND when the checkpoint has no such table; INTERNAL when the proof does not
   *   reproduce the checkpoint's state root (a corrupt store).
   */
  table(anchor: Anchor, source: string, table: string): AnchoredTable {
    const inclusion = proveTableRoot(this.suite, anchor.tables, source, table);
    if (inclusion === undefined) throw new GatewayError(GatewayErrorCode.NotFound, `unknown table ${source}/${table} at checkpoint ${anchor.checkpoint.seq}`);
    if (!equalBytes(inclusion.stateRoot, anchor.checkpoint.stateRoot)) {
      throw new GatewayError(GatewayErrorCode.Internal, `checkpoint ${anchor.checkpoint.seq}: recorded table roots do not hash to its state root`);
    }
    return { root: inclusion.tableRoot, inclusion };
  }
}
