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

/**
 * Checkpoint anchors for map reads.
 * @example const a = await anchors.resolve(0); const t = anchors.table(a, 'pg', 'public.users')
 */
@Injectable()
export class AnchorsService {
  private readonly suite: HashSuite;
  private readonly chain: CheckpointReader;

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
    const checkpoint = await this.checkpoint(seq);
    const tables = await this.chain.tableRootsAt(checkpoint.seq);
    if (tables === undefined) {
      throw new GatewayError(GatewayErrorCode.Conflict, `checkpoint ${checkpoint.seq} has no recorded table roots (written before they were kept); use a later checkpoint`);
    }
    return { checkpoint, tables };
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
