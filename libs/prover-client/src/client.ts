// A typed client of the prover's request/reply API on core NATS: encodes the protobuf request, sends it with the
// caller's trace context, decodes `Ms-Status` into typed errors and the proofs into libs/merkle documents.
import { create, fromBinary, toBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { RequestError, TimeoutError, headers as natsHeaders, type Msg, type MsgHdrs, type RequestOptions } from '@nats-io/transport-node';
import { SpanKind, SpanStatusCode, context, propagation, trace, type Tracer } from '@opentelemetry/api';
import type { LogConsistencyProof as MerkleConsistency, Proof as MerkleProof } from '@merklesync/merkle';
import { natsHeadersSetter } from '@merklesync/messaging';
import {
  GenerateProofRequestSchema,
  GenerateProofResponseSchema,
  GetCheckpointRequestSchema,
  GetCheckpointResponseSchema,
  ProofSchema,
  proofFromMessage,
  type Checkpoint,
  type GenerateProofRequest,
  type GenerateProofResponse,
  type GetCheckpointResponse,
} from '@merklesync/protocol';
import { ProverClientError, ProverClientErrorCode, statusToCode } from './errors.ts';
import { DEFAULT_PROVER_PREFIX, MAP_ROOT_HEADER, ProverRequestKind, ReplyHeaders, proverSubject } from './subjects.ts';

/** The one I/O port: NATS request/reply (a `NatsConnection` is one). */
export interface ProverRequester {
  request(subject: string, payload?: Uint8Array, opts?: RequestOptions): Promise<Msg>;
}

/** Options of {@link ProverClient}. */
export interface ProverClientOptions {
  /** Subject prefix of the prover (`PROVER_SUBJECT_PREFIX`); default `ms.prover`. */
  readonly prefix?: string;
  /** Default per-request timeout in ms; default 5000. */
  readonly timeoutMs?: number;
  readonly tracer?: Tracer;
}

/** Per-request options. */
export interface RequestCallOptions {
  readonly timeoutMs?: number;
  /** Extra request headers (e.g. `Ms-Map-Root`). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** A proof reply: the libs/merkle document (verify with `verifyProof`) and the raw response (anchor fields). */
export interface ProofResult {
  readonly proof: MerkleProof;
  /** `proof`, `table_root_proof` and `checkpoint` as the prover sent them. */
  readonly response: GenerateProofResponse;
}

/** A checkpoint reply; `consistency` is set when asked for and the sizes differ. */
export interface CheckpointResult {
  readonly checkpoint: Checkpoint;
  readonly consistency?: MerkleConsistency;
  readonly response: GetCheckpointResponse;
}

/** Map proof options. */
export interface MapProofOptions extends RequestCallOptions {
  /** Checkpoint to anchor in; 0 / absent = the latest. */
  readonly checkpointSequence?: bigint;
  /** Prove against this (historical) map root, 32 bytes; never anchored. Exclusive with checkpointSequence. */
  readonly mapRoot?: Uint8Array;
}

const _EMPTY = new Uint8Array(0);

function _hex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

/**
 * Client of the prover (apps/prover/README.md). Every method throws {@link ProverClientError} on failure.
 * @example
 * const prover = new ProverClient(nc, { prefix: 'ms.prover' });
 * const { proof, response } = await prover.proveMapKeys('pg', 'public.users', [key]);
 * verifyProof(proof); // libs/merkle
 */
export class ProverClient {
  private readonly _nc: ProverRequester;
  private readonly _prefix: string;
  private readonly _timeoutMs: number;
  private readonly _tracer: Tracer;

  /** @throws RangeError for a non-positive timeout or an empty prefix. */
  constructor(nc: ProverRequester, options: ProverClientOptions = {}) {
    const timeoutMs = options.timeoutMs ?? 5000;
    if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1) throw new RangeError('timeoutMs must be a positive integer');
    const prefix = options.prefix ?? DEFAULT_PROVER_PREFIX;
    if (prefix === '') throw new RangeError('prefix must not be empty');
    this._nc = nc;
    this._prefix = prefix;
    this._timeoutMs = timeoutMs;
    this._tracer = options.tracer ?? trace.getTracer('@merklesync/prover-client');
  }

  /**
   * Sends one raw request and returns the OK reply's payload.
   * @throws ProverClientError: the reply's status; UNAVAILABLE (no responders, not connected); DEADLINE_EXCEEDED.
   * @example const bytes = await prover.request(ProverRequestKind.CheckpointLatest, new Uint8Array(0))
   */
  async request(kind: ProverRequestKind, data: Uint8Array, options: RequestCallOptions = {}): Promise<Uint8Array> {
    const subject = proverSubject(this._prefix, kind);
    return this._tracer.startActiveSpan(
      `send ${subject}`,
      { kind: SpanKind.CLIENT, attributes: { 'messaging.system': 'nats', 'messaging.destination.name': subject, 'messaging.operation.type': 'send' } },
      async (span) => {
        try {
          const h: MsgHdrs = natsHeaders();
          for (const [k, v] of Object.entries(options.headers ?? {})) h.set(k, v);
          propagation.inject(context.active(), h, natsHeadersSetter);
          const msg = await this._send(subject, data, h, options.timeoutMs ?? this._timeoutMs);
          const status = msg.headers?.get(ReplyHeaders.Status) ?? '';
          if (status === 'OK') return msg.data;
          const message = msg.headers?.get(ReplyHeaders.ErrorMessage) || (status === '' ? 'reply without Ms-Status' : `prover replied ${status}`);
          throw new ProverClientError(statusToCode(status), subject, message);
        } catch (e) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: e instanceof ProverClientError ? e.code : 'error' });
          if (e instanceof ProverClientError) span.setAttribute('rpc.status', e.code);
          throw e;
        } finally {
          span.end();
        }
      },
    );
  }

  private async _send(subject: string, data: Uint8Array, headers: MsgHdrs, timeout: number): Promise<Msg> {
    try {
      return await this._nc.request(subject, data, { timeout, headers });
    } catch (e) {
      if (e instanceof TimeoutError || (e instanceof RequestError && e.cause instanceof TimeoutError)) {
        throw new ProverClientError(ProverClientErrorCode.DeadlineExceeded, subject, `no reply from the prover within ${timeout} ms`, { cause: e });
      }
      if (e instanceof RequestError && e.isNoResponders()) {
        throw new ProverClientError(ProverClientErrorCode.Unavailable, subject, 'no prover is serving (no responders)', { cause: e });
      }
      throw new ProverClientError(ProverClientErrorCode.Unavailable, subject, `prover request failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }

  /**
   * Any GenerateProofRequest, routed by its target: map_keys with one key → `map.prove`, more → `map.multi`,
   * log_inclusion → `log.inclusion`, log_consistency → `log.consistency`.
   * @throws ProverClientError (INVALID_ARGUMENT when no target is set, without asking the prover).
   * @example await prover.generateProof(create(GenerateProofRequestSchema, { target: { case: 'logInclusion', value: { leafIndex: 3n, treeSize: 8n } } }))
   */
  async generateProof(request: GenerateProofRequest, options: MapProofOptions = {}): Promise<ProofResult> {
    const t = request.target;
    let kind: ProverRequestKind;
    switch (t.case) {
      case 'mapKeys':
        kind = t.value.mapKeys.length === 1 ? ProverRequestKind.MapProve : ProverRequestKind.MapMulti;
        break;
      case 'logInclusion':
        kind = ProverRequestKind.LogInclusion;
        break;
      case 'logConsistency':
        kind = ProverRequestKind.LogConsistency;
        break;
      case undefined:
        throw new ProverClientError(ProverClientErrorCode.InvalidArgument, proverSubject(this._prefix, ProverRequestKind.MapProve), 'GenerateProofRequest.target is not set');
      default: {
        const never: never = t;
        throw new ProverClientError(ProverClientErrorCode.InvalidArgument, this._prefix, `unknown target ${String(never)}`);
      }
    }
    const headers = { ...options.headers, ...(options.mapRoot === undefined ? {} : { [MAP_ROOT_HEADER]: _hex(options.mapRoot) }) };
    const bytes = await this.request(kind, toBinary(GenerateProofRequestSchema, request), { ...options, headers });
    return this._proof(kind, bytes);
  }

  /**
   * Membership/non-membership proof for one key, or one multiproof for several, of table (source, table).
   * @throws ProverClientError (NOT_FOUND unknown table/checkpoint/root, INVALID_ARGUMENT bad key length...).
   * @example const { proof } = await prover.proveMapKeys('pg', 'public.users', [key], { checkpointSequence: 3n })
   */
  proveMapKeys(source: string, table: string, keys: readonly Uint8Array[], options: MapProofOptions = {}): Promise<ProofResult> {
    return this.generateProof(
      create(GenerateProofRequestSchema, { target: { case: 'mapKeys', value: { source, table, mapKeys: [...keys] } }, checkpointSequence: options.checkpointSequence ?? 0n }),
      options,
    );
  }

  /**
   * RFC 9162 inclusion proof of leaf `leafIndex` at `treeSize` (0 = the size of checkpoint `checkpointSequence`,
   * 0 = latest, returned in `response.checkpoint`).
   * @throws ProverClientError (INVALID_ARGUMENT, OUT_OF_RANGE, NOT_FOUND).
   * @example await prover.proveLogInclusion(5n, 0n)
   */
  proveLogInclusion(leafIndex: bigint, treeSize: bigint, checkpointSequence = 0n, options: RequestCallOptions = {}): Promise<ProofResult> {
    return this.generateProof(create(GenerateProofRequestSchema, { target: { case: 'logInclusion', value: { leafIndex, treeSize } }, checkpointSequence }), options);
  }

  /**
   * RFC 9162 consistency proof from `size1` to `size2` (0 = the size of checkpoint `checkpointSequence`).
   * @throws ProverClientError (INVALID_ARGUMENT, OUT_OF_RANGE, NOT_FOUND).
   * @example await prover.proveLogConsistency(10n, 0n)
   */
  proveLogConsistency(size1: bigint, size2: bigint, checkpointSequence = 0n, options: RequestCallOptions = {}): Promise<ProofResult> {
    return this.generateProof(create(GenerateProofRequestSchema, { target: { case: 'logConsistency', value: { size1, size2 } }, checkpointSequence }), options);
  }

  /**
   * The latest checkpoint (`sequence` undefined) or checkpoint `sequence` (≥ 1), with the log's consistency
   * from `consistencyFromSize` when > 0.
   * @throws ProverClientError (NOT_FOUND no such checkpoint / none yet; INVALID_ARGUMENT).
   * @example const { checkpoint } = await prover.getCheckpoint()
   */
  async getCheckpoint(sequence?: bigint, consistencyFromSize = 0n, options: RequestCallOptions = {}): Promise<CheckpointResult> {
    const kind = sequence === undefined ? ProverRequestKind.CheckpointLatest : ProverRequestKind.CheckpointGet;
    const req = create(GetCheckpointRequestSchema, { consistencyFromSize, ...(sequence === undefined ? {} : { sequence }) });
    const bytes = await this.request(kind, toBinary(GetCheckpointRequestSchema, req), options);
    const subject = proverSubject(this._prefix, kind);
    const response = _decode(GetCheckpointResponseSchema, bytes, subject);
    if (response.checkpoint === undefined) throw new ProverClientError(ProverClientErrorCode.Internal, subject, 'reply without a checkpoint');
    if (response.consistency === undefined) return { checkpoint: response.checkpoint, response };
    const proof = _toMerkle(create(ProofSchema, { proof: { case: 'logConsistency', value: response.consistency } }), subject);
    if (proof.kind !== 'log-consistency') throw new ProverClientError(ProverClientErrorCode.Internal, subject, 'consistency is not a log-consistency proof');
    return { checkpoint: response.checkpoint, consistency: proof, response };
  }

  private _proof(kind: ProverRequestKind, bytes: Uint8Array): ProofResult {
    const subject = proverSubject(this._prefix, kind);
    const response = _decode(GenerateProofResponseSchema, bytes, subject);
    if (response.proof === undefined) throw new ProverClientError(ProverClientErrorCode.Internal, subject, 'reply without a proof');
    return { proof: _toMerkle(response.proof, subject), response };
  }
}

function _decode<D extends DescMessage>(schema: D, data: Uint8Array, subject: string): MessageShape<D> {
  try {
    return fromBinary(schema, data.length === 0 ? _EMPTY : data);
  } catch (e) {
    throw new ProverClientError(ProverClientErrorCode.Internal, subject, `undecodable ${schema.typeName} reply: ${(e as Error).message}`, { cause: e });
  }
}

function _toMerkle(m: MessageShape<typeof ProofSchema>, subject: string): MerkleProof {
  try {
    return proofFromMessage(m);
  } catch (e) {
    throw new ProverClientError(ProverClientErrorCode.Internal, subject, `malformed proof in reply: ${(e as Error).message}`, { cause: e });
  }
}
