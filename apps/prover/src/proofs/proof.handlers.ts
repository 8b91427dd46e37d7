// Bus handlers: decode the protobuf request, check its shape, make ONE service call, encode the response.
import { create, fromBinary, toBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import type { MsgHdrs } from '@nats-io/transport-node';
import { Inject, Injectable } from '@nestjs/common';
import { fromHex } from '@merklesync/merkle';
import {
  GenerateProofRequestSchema,
  GenerateProofResponseSchema,
  GetCheckpointRequestSchema,
  GetCheckpointResponseSchema,
  checkpointToMessage,
  consistencyToMessage,
  proofToMessage,
  tableRootProofToMessage,
  type GenerateProofRequest,
  type MapKeysTarget,
} from '@merklesync/protocol';
import type { RpcHandler, RpcRequest } from '../bus/nats-rpc-server.ts';
import { MAP_ROOT_HEADER, ProverRequestKind } from '../bus/subjects.ts';
import type { ProverConfig } from '../config.ts';
import { ProverError, ProverStatus } from '../errors.ts';
import { PROVER_CONFIG } from '../tokens.ts';
import { CheckpointService } from './checkpoint.service.ts';
import type { LogProofAnswer } from './log-proof.service.ts';
import { LogProofService } from './log-proof.service.ts';
import { MapProofService, type MapProofAnswer, type MapTarget } from './map-proof.service.ts';
import type { Proof } from '@merklesync/merkle';

function _bad(message: string): never {
  throw new ProverError(ProverStatus.InvalidArgument, message);
}

function _decode<D extends DescMessage>(schema: D, data: Uint8Array): MessageShape<D> {
  try {
    return fromBinary(schema, data);
  } catch (e) {
    return _bad(`not a valid ${schema.typeName}: ${(e as Error).message}`);
  }
}

function _u64(v: bigint, field: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) _bad(`${field} is above 2^53 - 1`);
  return Number(v);
}

function _mapRoot(h: MsgHdrs | undefined): Uint8Array | undefined {
  const v = h?.get(MAP_ROOT_HEADER);
  if (v === undefined || v === '') return undefined;
  if (!/^[0-9a-fA-F]{64}$/.test(v)) _bad(`${MAP_ROOT_HEADER} must be 64 hex digits`);
  return fromHex(v.toLowerCase());
}

function _mapKeys(r: GenerateProofRequest): MapKeysTarget {
  if (r.target.case !== 'mapKeys') _bad('target must be map_keys');
  return r.target.value;
}

/**
 * The handler of every request kind; `routes()` lists them for the RPC server.
 * @example for (const [kind, h] of handlers.routes()) rpc.handle(proverSubject(prefix, kind), h)
 */
@Injectable()
export class ProofHandlers {
  private readonly config: ProverConfig;
  private readonly maps: MapProofService;
  private readonly logs: LogProofService;
  private readonly checkpoints: CheckpointService;

  constructor(
    @Inject(PROVER_CONFIG) config: ProverConfig,
    @Inject(MapProofService) maps: MapProofService,
    @Inject(LogProofService) logs: LogProofService,
    @Inject(CheckpointService) checkpoints: CheckpointService,
  ) {
    this.config = config;
    this.maps = maps;
    this.logs = logs;
    this.checkpoints = checkpoints;
  }

  /** Handler per request kind. */
  routes(): ReadonlyMap<ProverRequestKind, RpcHandler> {
    return new Map<ProverRequestKind, RpcHandler>([
      [ProverRequestKind.MapProve, (q) => this.mapProve(q)],
      [ProverRequestKind.MapMulti, (q) => this.mapMulti(q)],
      [ProverRequestKind.LogInclusion, (q) => this.logInclusion(q)],
      [ProverRequestKind.LogConsistency, (q) => this.logConsistency(q)],
      [ProverRequestKind.CheckpointLatest, (q) => this.checkpointLatest(q)],
      [ProverRequestKind.CheckpointGet, (q) => this.checkpointGet(q)],
    ]);
  }

  /** `map.prove`: GenerateProofRequest{map_keys: one key} → GenerateProofResponse. */
  async mapProve(q: RpcRequest): Promise<Uint8Array> {
    const r = _decode(GenerateProofRequestSchema, q.data);
    const t = _mapKeys(r);
    if (t.mapKeys.length !== 1) _bad(`map.prove takes exactly one map key, got ${t.mapKeys.length} (use map.multi)`);
    return this._mapResponse(await this.maps.prove(this._target(t, r, q.headers), t.mapKeys[0]!));
  }

  /** `map.multi`: GenerateProofRequest{map_keys: keys} → GenerateProofResponse with a multiproof. */
  async mapMulti(q: RpcRequest): Promise<Uint8Array> {
    const r = _decode(GenerateProofRequestSchema, q.data);
    const t = _mapKeys(r);
    return this._mapResponse(await this.maps.proveMulti(this._target(t, r, q.headers), t.mapKeys));
  }

  /** `log.inclusion`: GenerateProofRequest{log_inclusion} → GenerateProofResponse. */
  async logInclusion(q: RpcRequest): Promise<Uint8Array> {
    const r = _decode(GenerateProofRequestSchema, q.data);
    if (r.target.case !== 'logInclusion') _bad('target must be log_inclusion');
    const v = r.target.value;
    const seq = _u64(r.checkpointSequence, 'checkpoint_sequence');
    return this._logResponse(await this.logs.inclusion(_u64(v.leafIndex, 'leaf_index'), _u64(v.treeSize, 'tree_size'), seq));
  }

  /** `log.consistency`: GenerateProofRequest{log_consistency} → GenerateProofResponse. */
  async logConsistency(q: RpcRequest): Promise<Uint8Array> {
    const r = _decode(GenerateProofRequestSchema, q.data);
    if (r.target.case !== 'logConsistency') _bad('target must be log_consistency');
    const v = r.target.value;
    const seq = _u64(r.checkpointSequence, 'checkpoint_sequence');
    return this._logResponse(await this.logs.consistency(_u64(v.size1, 'size1'), _u64(v.size2, 'size2'), seq));
  }

  /** `checkpoint.latest`: GetCheckpointRequest without sequence (empty payload allowed) → GetCheckpointResponse. */
  async checkpointLatest(q: RpcRequest): Promise<Uint8Array> {
    const r = _decode(GetCheckpointRequestSchema, q.data);
    if (r.sequence !== undefined) _bad('checkpoint.latest takes no sequence (use checkpoint.get)');
    return this._checkpointResponse(undefined, _u64(r.consistencyFromSize, 'consistency_from_size'));
  }

  /** `checkpoint.get`: GetCheckpointRequest{sequence ≥ 1} → GetCheckpointResponse. */
  async checkpointGet(q: RpcRequest): Promise<Uint8Array> {
    const r = _decode(GetCheckpointRequestSchema, q.data);
    if (r.sequence === undefined || r.sequence === 0n) _bad('checkpoint.get needs a sequence >= 1');
    return this._checkpointResponse(_u64(r.sequence, 'sequence'), _u64(r.consistencyFromSize, 'consistency_from_size'));
  }

  private _target(t: MapKeysTarget, r: GenerateProofRequest, h: MsgHdrs | undefined): MapTarget {
    const root = _mapRoot(h);
    const base = { source: t.source, table: t.table, checkpointSeq: _u64(r.checkpointSequence, 'checkpoint_sequence') };
    return root === undefined ? base : { ...base, root };
  }

  private _mapResponse(a: MapProofAnswer): Uint8Array {
    const suite = this.config.suite;
    return toBinary(
      GenerateProofResponseSchema,
      create(GenerateProofResponseSchema, {
        proof: proofToMessage(a.proof),
        ...(a.anchor === undefined
          ? {}
          : { tableRootProof: tableRootProofToMessage(a.anchor.tableRoot, suite), checkpoint: checkpointToMessage(a.anchor.checkpoint, suite) }),
      }),
    );
  }

  private _logResponse(a: LogProofAnswer<Proof>): Uint8Array {
    return toBinary(
      GenerateProofResponseSchema,
      create(GenerateProofResponseSchema, {
        proof: proofToMessage(a.proof),
        ...(a.checkpoint === undefined ? {} : { checkpoint: checkpointToMessage(a.checkpoint, this.config.suite) }),
      }),
    );
  }

  private async _checkpointResponse(seq: number | undefined, fromSize: number): Promise<Uint8Array> {
    const a = await this.checkpoints.get(seq, fromSize);
    return toBinary(
      GetCheckpointResponseSchema,
      create(GetCheckpointResponseSchema, {
        checkpoint: checkpointToMessage(a.checkpoint, this.config.suite),
        ...(a.consistency === undefined ? {} : { consistency: consistencyToMessage(a.consistency) }),
      }),
    );
  }
}
