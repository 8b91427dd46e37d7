// GetBlock: one row's ciphertext block with its map proof at a checkpoint's table root and that root's
// inclusion in the checkpoint's state root — everything an edge client needs to verify it offline.
import { create } from '@bufbuild/protobuf';
import { Inject, Injectable } from '@nestjs/common';
import { equalBytes, getHashSuite, mapProve, runMapReadAsync, type AsyncMapNodeSource, type HashSuite, type MapProofDocument } from '@merklesync/merkle';
import { GetBlockResponseSchema, checkpointToMessage, proofToMessage, tableRootProofToMessage, type GetBlockResponse } from '@merklesync/protocol';
import { leafLocators, prefetchMapPath } from '@merklesync/store';
import type { GatewayConfig } from '../config.ts';
import { GatewayError, GatewayErrorCode } from '../errors.ts';
import type { BlockReader } from '../store/ports.ts';
import { BLOCKS, GATEWAY_CONFIG, MAP_NODES } from '../tokens.ts';
import { AnchorsService } from './anchors.service.ts';
import { checkHash, checkName } from './inputs.ts';
import { blockToMessage } from './messages.ts';

/**
 * Proves one key of a table's map against a checkpoint (the latest by default) and attaches the stored block.
 * @example const r = await blocks.getBlock('pg', 'public.users', key, 0)
 */
@Injectable()
export class BlocksService {
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
   * The row's block (absent when the row does not exist at that checkpoint) with a membership or
   * non-membership proof, the table-root proof and the checkpoint.
   * The block is the one of the leaf at that checkpoint: found through the leaf's locator (the group that wrote it,
   * README "Block chunks" in libs/store), so any checkpoint serves the row as it was then.
   * @throws GatewayError INVALID_ARGUMENT (names, key length), NOT_FOUND (checkpoint, table), CONFLICT (a leaf stored
   *   before block chunks whose row changed after that checkpoint: only the latest of those blocks is kept), INTERNAL
   *   (no block matches a leaf the map holds).
   */
  async getBlock(source: string, table: string, mapKey: Uint8Array, checkpointSeq: number): Promise<GetBlockResponse> {
    checkName(source, 'source');
    checkName(table, 'table');
    checkHash(mapKey, 'map_key');
    const anchor = await this.anchors.resolve(checkpointSeq);
    const t = this.anchors.table(anchor, source, table);
    const prove = async () => {
      await prefetchMapPath(this.nodes, t.root, mapKey); // the key's path in one query, not one per trie level
      return runMapReadAsync(mapProve(this.suite, t.root, mapKey), this.nodes);
    };
    const p = await prove();
    const hash = this.suite.name;
    const cp = anchor.checkpoint;
    let proof: MapProofDocument;
    let block = undefined;
    if (p.kind === 'map-membership') {
      proof = { kind: 'map-membership', hash, root: t.root, key: mapKey, value: p.value, proof: p.proof };
      const [at] = await leafLocators(this.nodes, t.root, [mapKey]); // the path is cached by the proof
      const stored = await this.blocks.getAt(source, table, mapKey, at ?? 0);
      if (stored !== undefined && stored.leafCommitment !== null && equalBytes(stored.leafCommitment, p.value)) block = blockToMessage(stored);
      else if (stored !== undefined && stored.logIndex >= cp.logSize) {
        throw new GatewayError(GatewayErrorCode.Conflict, `row changed after checkpoint ${cp.seq} and only its latest block is kept; ask at a later checkpoint`);
      } else throw new GatewayError(GatewayErrorCode.Internal, `store holds no block for a leaf of ${source}/${table}`);
    } else {
      // Absent at the checkpoint: a block stored now (inserted later) is not part of it.
      proof = { kind: 'map-non-membership', hash, root: t.root, key: mapKey, proof: p.proof };
    }
    return create(GetBlockResponseSchema, {
      ...(block === undefined ? {} : { block }),
      proof: proofToMessage(proof),
      tableRootProof: tableRootProofToMessage(t.inclusion, hash),
      checkpoint: checkpointToMessage(cp, this.config.suite),
    });
  }
}
