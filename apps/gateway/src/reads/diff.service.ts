// DiffTrees: the keys that differ between two roots of one table (libs/merkle mapDiff over the store's node
// source), their blocks where the store holds the matching version, and one multiproof against the newer root.
import { create } from '@bufbuild/protobuf';
import { Inject, Injectable } from '@nestjs/common';
import {
  equalBytes,
  getHashSuite,
  mapDiff,
  mapEmptyRoot,
  mapProveMulti,
  runMapReadAsync,
  type AsyncMapNodeSource,
  type HashSuite,
} from '@merklesync/merkle';
import { DataBlockSchema, DiffTreesResponseSchema, RowOperation, proofToMessage, type DataBlock, type DiffTreesResponse } from '@merklesync/protocol';
import { leafLocators, type StoredBlock } from '@merklesync/store';
import type { GatewayConfig } from '../config.ts';
import { GatewayError, GatewayErrorCode } from '../errors.ts';
import type { BlockReader } from '../store/ports.ts';
import { BLOCKS, GATEWAY_CONFIG, MAP_NODES } from '../tokens.ts';
import { AnchorsService } from './anchors.service.ts';
import { checkHash, checkName, hex } from './inputs.ts';
import { blockToMessage } from './messages.ts';

/**
 * Diffs and multiproofs over one table's map.
 * @example await diff.diffRoots('pg', 'public.users', oldRoot, newRoot)
 */
@Injectable()
export class DiffService {
  private readonly config: GatewayConfig;
  private readonly suite: HashSuite;
  private readonly nodes: AsyncMapNodeSource;
  private readonly blocks: BlockReader;
  private readonly anchors: AnchorsService;

  constructor(
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    @Inject(MAP_NODES) nodes: AsyncMapNodeSource,
    @Inject(BLOCKS) blocks: BlockReader,
    @Inject(AnchorsService) anchors: AnchorsService,
  ) {
    this.config = config;
    this.suite = getHashSuite(config.suite);
    this.nodes = nodes;
    this.blocks = blocks;
    this.anchors = anchors;
  }

  /**
   * What changed in table (source, table) from `oldRoot` to `newRoot`.
   * @throws GatewayError INVALID_ARGUMENT (names, root lengths), NOT_FOUND (a root not in the store),
   *   TOO_LARGE (more than maxDiffKeys changes: use SyncRequest).
   */
  async diffRoots(source: string, table: string, oldRoot: Uint8Array, newRoot: Uint8Array): Promise<DiffTreesResponse> {
    checkName(source, 'source');
    checkName(table, 'table');
    checkHash(oldRoot, 'old_root');
    checkHash(newRoot, 'new_root');
    const changes = await runMapReadAsync(mapDiff(this.suite, oldRoot, newRoot), this.nodes);
    if (changes.length > this.config.maxDiffKeys) {
      throw new GatewayError(GatewayErrorCode.TooLarge, `${changes.length} keys changed, more than ${this.config.maxDiffKeys}: use SyncRequest`);
    }
    return this.prove(source, table, newRoot, changes.map((c) => c.key));
  }

  /**
   * What changed in table (source, table) between checkpoints `fromSeq` and `toSeq` (0 = the latest), from the
   * table roots each checkpoint commits to (a table absent at `fromSeq` diffs from the empty map).
   * @throws as {@link diffRoots}; NOT_FOUND for an unknown checkpoint or a table absent at `toSeq`; CONFLICT
   *   for a checkpoint without recorded table roots.
   */
  async diffCheckpoints(source: string, table: string, fromSeq: number, toSeq: number): Promise<DiffTreesResponse> {
    const [from, to] = await Promise.all([this.anchors.resolve(fromSeq), this.anchors.resolve(toSeq)]);
    const newRoot = this.anchors.table(to, source, table).root;
    const old = from.tables.find((t) => t.source === source && t.table === table);
    return this.diffRoots(source, table, old?.root ?? mapEmptyRoot(this.suite), newRoot);
  }

  /**
   * The DiffTreesResponse for `keys` under `root`, their states read from the multiproof itself: present keys
   * with their block as of `root` (found through each leaf's locator; a leaf stored before block chunks whose row
   * changed again since has only its latest block kept: it is sent with its commitment and no ciphertext), absent
   * keys as deleted, and the multiproof of every key.
   * @throws GatewayError NOT_FOUND when `root` is not in the store.
   */
  async prove(source: string, table: string, root: Uint8Array, keys: readonly Uint8Array[]): Promise<DiffTreesResponse> {
    if (keys.length === 0) return create(DiffTreesResponseSchema, {});
    const multi = await runMapReadAsync(mapProveMulti(this.suite, root, keys), this.nodes);
    // Each present key's block as of its leaf under `root`: found through the leaf's locator (paths cached by the proof).
    const present = multi.entries.filter((e) => e.value !== null).map((e) => e.key);
    const ats = present.length === 0 ? [] : await leafLocators(this.nodes, root, present);
    const stored = present.length === 0 ? [] : await this.blocks.getManyAt(source, table, present, ats.map((a) => a ?? 0));
    const byKey = new Map<string, StoredBlock | undefined>();
    present.forEach((k, i) => byKey.set(hex(k), stored[i]));
    const changed: DataBlock[] = [];
    const deleted: Uint8Array[] = [];
    for (const e of multi.entries) {
      if (e.value === null) {
        deleted.push(e.key);
        continue;
      }
      const s = byKey.get(hex(e.key));
      if (s !== undefined && s.leafCommitment !== null && equalBytes(s.leafCommitment, e.value)) changed.push(blockToMessage(s));
      else changed.push(create(DataBlockSchema, { source, table, mapKey: e.key, leafCommitment: e.value, op: RowOperation.UPDATE }));
    }
    const proof = proofToMessage({ kind: 'map-multi', hash: this.suite.name, root, entries: multi.entries, proof: multi.proof });
    if (proof.proof.case !== 'mapMulti') throw new GatewayError(GatewayErrorCode.Internal, 'multiproof did not convert');
    return create(DiffTreesResponseSchema, { changedBlocks: changed, deletedKeys: deleted, proof: proof.proof.value });
  }
}
