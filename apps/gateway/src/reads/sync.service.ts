// SyncRequest: everything a client holding checkpoint `since` (or nothing) needs to reach the latest checkpoint:
// per table, the rows changed since (the store's paged block scan by log index) with multiproofs against the
// target table root, that root's inclusion in the target state root, then the checkpoint and log consistency.
import { create } from '@bufbuild/protobuf';
import { Inject, Injectable } from '@nestjs/common';
import { equalBytes } from '@merklesync/merkle';
import { SyncCompleteSchema, SyncRequestResponseSchema, consistencyToMessage, tableRootProofToMessage, type SyncRequestResponse } from '@merklesync/protocol';
import type { ProverClient } from '@merklesync/prover-client';
import type { BlockPage, BlockScanCursor, StoredCheckpoint } from '@merklesync/store';
import type { GatewayConfig } from '../config.ts';
import { GatewayError, GatewayErrorCode, badRequest } from '../errors.ts';
import type { BlockReader } from '../store/ports.ts';
import { BLOCKS, GATEWAY_CONFIG, PROVER } from '../tokens.ts';
import { AnchorsService } from './anchors.service.ts';
import { DiffService } from './diff.service.ts';
import { hex, u53 } from './inputs.ts';

/** Keys a sync remembers per table to send each once. */
const _SEEN_MAX = 1_000_000;

/** What the client holds. */
export interface SyncFrom {
  /** Its state root (empty for a first sync); must be `sinceSequence`'s. */
  readonly currentRoot: Uint8Array;
  /** "source/table" names; empty = every table. */
  readonly tableFilters: readonly string[];
  /** Its checkpoint sequence; 0 for a first sync. */
  readonly sinceSequence: bigint;
}

/**
 * The sync stream.
 * @example for await (const m of sync.sync({ currentRoot: new Uint8Array(0), tableFilters: [], sinceSequence: 0n }, signal)) send(m)
 */
@Injectable()
export class SyncService {
  private readonly config: GatewayConfig;
  private readonly blocks: BlockReader;
  private readonly anchors: AnchorsService;
  private readonly diff: DiffService;
  private readonly prover: ProverClient;

  constructor(
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    @Inject(BLOCKS) blocks: BlockReader,
    @Inject(AnchorsService) anchors: AnchorsService,
    @Inject(DiffService) diff: DiffService,
    @Inject(PROVER) prover: ProverClient,
  ) {
    this.config = config;
    this.blocks = blocks;
    this.anchors = anchors;
    this.diff = diff;
    this.prover = prover;
  }

  /**
   * Streams `diff` messages (one per page of changed rows of a table, with a multiproof against the target
   * table root), one `table_root` per table, then `sync_complete`. Each changed key is sent once, with its block as of
   * the target checkpoint (DiffService.prove); a key changed again after the target is proven at the target.
   * @throws GatewayError NOT_FOUND (no checkpoint yet, unknown `sinceSequence` or filter), INVALID_ARGUMENT
   *   (current_root without since_sequence, bad lengths), CONFLICT (current_root is not that checkpoint's).
   */
  async *sync(from: SyncFrom, signal: AbortSignal): AsyncGenerator<SyncRequestResponse> {
    const since = await this._since(from);
    const target = await this.anchors.resolve(0);
    const cp = target.checkpoint;
    if (since !== undefined && since.seq > cp.seq) badRequest(`since_sequence ${since.seq} is after the latest checkpoint ${cp.seq}`);
    const names = new Set(from.tableFilters);
    const tables = target.tables.filter((t) => names.size === 0 || names.has(`${t.source}/${t.table}`));
    for (const n of names) {
      if (!tables.some((t) => `${t.source}/${t.table}` === n)) throw new GatewayError(GatewayErrorCode.NotFound, `unknown table ${n} at checkpoint ${cp.seq}`);
    }
    const fromLogIndex = since?.logSize ?? 0;
    for (const t of tables) {
      const at = this.anchors.table(target, t.source, t.table);
      // A key changed in several groups is listed once per group by the scan: each key is sent once (up to
      // _SEEN_MAX keys per table; beyond that a repeat is sent again, proven at the same root, which is harmless).
      const seen = new Set<string>();
      let after: BlockScanCursor | undefined;
      do {
        if (signal.aborted) return;
        const page: BlockPage = await this.blocks.scan(t.source, t.table, { fromLogIndex, after, limit: this.config.syncPageSize });
        const keys: Uint8Array[] = [];
        for (const b of page.blocks) {
          const k = hex(b.mapKey);
          if (seen.has(k)) continue;
          if (seen.size < _SEEN_MAX) seen.add(k);
          keys.push(b.mapKey);
        }
        if (keys.length > 0) {
          const diff = await this.diff.prove(t.source, t.table, at.root, keys);
          yield create(SyncRequestResponseSchema, { message: { case: 'diff', value: diff } });
        }
        after = page.next;
      } while (after !== undefined);
      yield create(SyncRequestResponseSchema, { message: { case: 'tableRoot', value: tableRootProofToMessage(at.inclusion, this.config.suite) } });
    }
    const fromSize = since !== undefined && since.logSize < cp.logSize ? BigInt(since.logSize) : 0n;
    const r = await this.prover.getCheckpoint(BigInt(cp.seq), fromSize);
    yield create(SyncRequestResponseSchema, {
      message: {
        case: 'syncComplete',
        value: create(SyncCompleteSchema, { checkpoint: r.checkpoint, ...(r.consistency === undefined ? {} : { consistency: consistencyToMessage(r.consistency) }) }),
      },
    });
  }

  private async _since(from: SyncFrom): Promise<StoredCheckpoint | undefined> {
    const seq = u53(from.sinceSequence, 'since_sequence');
    if (seq === 0) {
      if (from.currentRoot.length > 0) badRequest('current_root needs since_sequence');
      return undefined;
    }
    const since = await this.anchors.checkpoint(seq);
    if (from.currentRoot.length > 0 && !equalBytes(from.currentRoot, since.stateRoot)) {
      throw new GatewayError(GatewayErrorCode.Conflict, `current_root is not the state root of checkpoint ${seq}`);
    }
    return since;
  }
}
