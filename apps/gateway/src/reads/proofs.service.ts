// GenerateProof (every kind, answered by the prover) and VerifyProof (a server-side convenience with libs/merkle).
import { create } from '@bufbuild/protobuf';
import { Inject, Injectable } from '@nestjs/common';
import { equalBytes, getHashSuite, verifyProof, type HashSuite, type Proof } from '@merklesync/merkle';
import {
  GenerateProofResponseSchema,
  VerifyProofResponseSchema,
  checkTableRootProof,
  proofFromMessage,
  type GenerateProofRequest,
  type GenerateProofResponse,
  type VerifyProofRequest,
  type VerifyProofResponse,
} from '@merklesync/protocol';
import type { ProverClient } from '@merklesync/prover-client';
import type { GatewayConfig } from '../config.ts';
import { badRequest } from '../errors.ts';
import { GATEWAY_CONFIG, PROVER } from '../tokens.ts';
import { checkHash, checkName } from './inputs.ts';

/**
 * Proof generation and verification.
 * @example const res = await proofs.generate(req, undefined)
 */
@Injectable()
export class ProofsService {
  private readonly suite: HashSuite;
  private readonly prover: ProverClient;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig, @Inject(PROVER) prover: ProverClient) {
    this.suite = getHashSuite(config.suite);
    this.prover = prover;
  }

  /**
   * A proof from the prover, as it answered (map proofs are at the table's current root; anchored in the
   * checkpoint when the prover could). `mapRoot` proves against that historical root instead.
   * @throws GatewayError INVALID_ARGUMENT (no target, names, key lengths), NOT_FOUND, OUT_OF_RANGE, TOO_LARGE, UNAVAILABLE.
   */
  async generate(request: GenerateProofRequest, mapRoot: Uint8Array | undefined): Promise<GenerateProofResponse> {
    const t = request.target;
    if (t.case === undefined) badRequest('target must be set (log_inclusion, log_consistency or map_keys)');
    if (t.case === 'mapKeys') {
      checkName(t.value.source, 'source');
      checkName(t.value.table, 'table');
      if (t.value.mapKeys.length === 0) badRequest('map_keys must hold at least one key');
      t.value.mapKeys.forEach((k, i) => checkHash(k, `map_keys[${i}]`));
    }
    if (mapRoot !== undefined) checkHash(mapRoot, 'map_root');
    const r = await this.prover.generateProof(request, mapRoot === undefined ? {} : { mapRoot });
    return create(GenerateProofResponseSchema, r.response);
  }

  /**
   * Verifies the proof and, when given, that it chains to the checkpoint: a log proof's size and root are the
   * checkpoint's; a map proof's root is `table_root_proof.table_root`, included in the checkpoint's state root.
   * The checkpoint's signatures are NOT checked here (that needs the client's witness policy).
   * @throws never for bad proofs (valid = false with the reason).
   */
  verify(request: VerifyProofRequest): VerifyProofResponse {
    const no = (why: string): VerifyProofResponse => create(VerifyProofResponseSchema, { valid: false, errorMessage: why });
    if (request.proof === undefined) return no('proof is missing');
    let p: Proof;
    try {
      p = proofFromMessage(request.proof);
    } catch (e) {
      return no(`malformed proof: ${(e as Error).message}`);
    }
    if (!verifyProof(p)) return no('proof does not verify');
    const cp = request.checkpoint;
    if (cp !== undefined) {
      const why = this._chains(p, request);
      if (why !== undefined) return no(why);
    } else if (request.tableRootProof !== undefined) return no('table_root_proof needs a checkpoint');
    return create(VerifyProofResponseSchema, { valid: true });
  }

  private _chains(p: Proof, r: VerifyProofRequest): string | undefined {
    const cp = r.checkpoint!;
    const size = Number(cp.logSize);
    switch (p.kind) {
      case 'log-inclusion':
        return p.treeSize === size && equalBytes(p.root, cp.logRoot) ? undefined : 'proof is not at the checkpoint log size and root';
      case 'log-consistency':
        return p.size2 === size && equalBytes(p.root2, cp.logRoot) ? undefined : 'consistency does not end at the checkpoint';
      case 'map-membership':
      case 'map-non-membership':
      case 'map-multi': {
        if (r.tableRootProof === undefined) return 'a map proof needs table_root_proof to chain to the checkpoint';
        const c = checkTableRootProof(this.suite, r.tableRootProof, { stateRoot: cp.stateRoot, tableRoot: p.root });
        return c.ok ? undefined : `table root proof: ${c.failure}: ${c.reason}`;
      }
      default: {
        const never: never = p;
        return `proof kind ${String((never as { kind?: unknown }).kind)} does not chain to a checkpoint`;
      }
    }
  }
}
