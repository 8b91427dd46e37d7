// ProverClient against the real NATS server, with a stub responder standing in for the prover.
import { randomBytes } from 'node:crypto';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { ROOT_CONTEXT, TraceFlags, context, trace } from '@opentelemetry/api';
import { LogTree, SparseMerkleMap, getHashSuite, toHex, verifyProof } from '@merklesync/merkle';
import {
  CheckpointSchema,
  GenerateProofRequestSchema,
  GenerateProofResponseSchema,
  GetCheckpointRequestSchema,
  GetCheckpointResponseSchema,
  ProofSchema,
  proofToMessage,
} from '@merklesync/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProverClient, ProverClientError, ProverClientErrorCode, ProverRequestKind as K, MAP_ROOT_HEADER } from '../src/index.ts';
import { startProverStub, type ProverStub } from '../src/testing/index.ts';
import { installTracing } from '@merklesync/messaging/testing';

const suite = getHashSuite('sha256');
const map = new SparseMerkleMap({ suite });
const key = new Uint8Array(32).fill(7);
const value = new Uint8Array(32).fill(9);
const root = map.update(map.emptyRoot, [{ key, value }, { key: new Uint8Array(32).fill(1), value }]);
const log = new LogTree(suite);
log.appendMany(Array.from({ length: 10 }, (_, i) => new Uint8Array([i])));

let nc: NatsConnection;
let stub: ProverStub;
let client: ProverClient;
let uninstall: () => void;
const prefix = `test.pc.${randomBytes(6).toString('hex')}`;
const seen: { traceparent?: string; mapRoot?: string; kind?: string } = {};

beforeAll(async () => {
  uninstall = installTracing();
  nc = await connect({ servers: '127.0.0.1:4222' });
  stub = await startProverStub(nc, prefix, {
    [K.MapProve]: (data, h) => {
      seen.traceparent = h?.get('traceparent');
      seen.mapRoot = h?.get(MAP_ROOT_HEADER);
      const req = fromBinary(GenerateProofRequestSchema, data);
      if (req.target.case !== 'mapKeys') return { status: 'INVALID_ARGUMENT', message: 'target must be map_keys' };
      if (req.target.value.table === 'nope') return { status: 'NOT_FOUND', message: 'unknown table pg/nope' };
      if (req.target.value.table === 'silent') return undefined;
      if (req.target.value.table === 'garbage') return { data: Uint8Array.from([0xff, 0xff]) };
      if (req.target.value.table === 'weird') return { status: 'TEAPOT', message: 'short and stout' };
      const p = map.prove(root, req.target.value.mapKeys[0]!);
      const doc = p.kind === 'map-membership'
        ? { kind: 'map-membership' as const, hash: 'sha256' as const, root, key: req.target.value.mapKeys[0]!, value: p.value, proof: p.proof }
        : { kind: 'map-non-membership' as const, hash: 'sha256' as const, root, key: req.target.value.mapKeys[0]!, proof: p.proof };
      return { data: toBinary(GenerateProofResponseSchema, create(GenerateProofResponseSchema, { proof: proofToMessage(doc) })) };
    },
    [K.MapMulti]: () => {
      seen.kind = 'multi';
      return { status: 'RESOURCE_EXHAUSTED', message: 'too big' };
    },
    [K.LogInclusion]: (data) => {
      const req = fromBinary(GenerateProofRequestSchema, data);
      if (req.target.case !== 'logInclusion') return { status: 'INVALID_ARGUMENT', message: 'x' };
      const i = Number(req.target.value.leafIndex);
      const doc = { kind: 'log-inclusion' as const, hash: 'sha256' as const, treeSize: log.size, leafIndex: i, leafHash: log.leafHash(i), root: log.root(), path: log.inclusionProof(i) };
      return { data: toBinary(GenerateProofResponseSchema, create(GenerateProofResponseSchema, { proof: proofToMessage(doc) })) };
    },
    [K.CheckpointLatest]: (data) => {
      const req = fromBinary(GetCheckpointRequestSchema, data);
      expect(req.sequence).toBeUndefined();
      const cons = { kind: 'log-consistency' as const, hash: 'sha256' as const, size1: 4, size2: log.size, root1: log.root(4), root2: log.root(), path: log.consistencyProof(4, log.size) };
      const m = proofToMessage(cons);
      return {
        data: toBinary(
          GetCheckpointResponseSchema,
          create(GetCheckpointResponseSchema, {
            checkpoint: create(CheckpointSchema, { sequence: 3n, logSize: BigInt(log.size), logRoot: log.root() }),
            ...(req.consistencyFromSize > 0n && m.proof.case === 'logConsistency' ? { consistency: m.proof.value } : {}),
          }),
        ),
      };
    },
    [K.CheckpointGet]: () => ({ status: 'UNAVAILABLE', message: 'store unavailable' }),
  });
  client = new ProverClient(nc, { prefix, timeoutMs: 2000 });
});

afterAll(async () => {
  await stub?.close();
  await nc?.close();
  uninstall?.();
});

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    expect(e).toBeInstanceOf(ProverClientError);
    return (e as ProverClientError).code;
  }
}

describe('ProverClient', () => {
  it('decodes a map proof into a libs/merkle document that verifies', async () => {
    const r = await client.proveMapKeys('pg', 'public.users', [key]);
    expect(r.proof.kind).toBe('map-membership');
    expect(verifyProof(r.proof)).toBe(true);
    const absent = await client.proveMapKeys('pg', 'public.users', [new Uint8Array(32).fill(3)]);
    expect(absent.proof.kind).toBe('map-non-membership');
    expect(verifyProof(absent.proof)).toBe(true);
  });

  it('routes by target: one key → map.prove, several → map.multi; log targets to log.*', async () => {
    expect(await code(client.proveMapKeys('pg', 't', [key, key]))).toBe('RESOURCE_EXHAUSTED');
    expect(seen.kind).toBe('multi');
    const inc = await client.proveLogInclusion(3n, 0n);
    expect(inc.proof.kind).toBe('log-inclusion');
    expect(verifyProof(inc.proof)).toBe(true);
    expect(await code(client.generateProof(create(GenerateProofRequestSchema, {})))).toBe('INVALID_ARGUMENT');
  });

  it('sends the map root header as hex', async () => {
    await client.proveMapKeys('pg', 'public.users', [key], { mapRoot: root });
    expect(seen.mapRoot).toBe(toHex(root));
  });

  it('decodes checkpoints and their consistency proofs', async () => {
    const r = await client.getCheckpoint(undefined, 4n);
    expect(r.checkpoint.sequence).toBe(3n);
    expect(r.consistency?.kind).toBe('log-consistency');
    expect(verifyProof(r.consistency!)).toBe(true);
    const plain = await client.getCheckpoint();
    expect(plain.consistency).toBeUndefined();
  });

  it('maps statuses and transport failures to typed errors', async () => {
    expect(await code(client.proveMapKeys('pg', 'nope', [key]))).toBe(ProverClientErrorCode.NotFound);
    expect(await code(client.getCheckpoint(5n))).toBe(ProverClientErrorCode.Unavailable);
    expect(await code(client.proveMapKeys('pg', 'weird', [key]))).toBe(ProverClientErrorCode.Internal);
    expect(await code(client.proveMapKeys('pg', 'garbage', [key]))).toBe(ProverClientErrorCode.Internal);
    expect(await code(client.proveMapKeys('pg', 'silent', [key], { timeoutMs: 200 }))).toBe(ProverClientErrorCode.DeadlineExceeded);
    expect(await code(client.proveLogConsistency(1n, 2n))).toBe(ProverClientErrorCode.Unavailable); // no responders
    const e = (await client.proveMapKeys('pg', 'nope', [key]).catch((x: unknown) => x)) as ProverClientError;
    expect(e.message).toBe('unknown table pg/nope');
    expect(e.subject).toBe(`${prefix}.map.prove`);
  });

  it('injects the caller trace context as traceparent', async () => {
    const sc = { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: TraceFlags.SAMPLED };
    await context.with(trace.setSpanContext(ROOT_CONTEXT, sc), () => client.proveMapKeys('pg', 'public.users', [key]));
    expect(seen.traceparent).toMatch(new RegExp(`^00-${'a'.repeat(32)}-[0-9a-f]{16}-01$`));
  });

  it('rejects bad options', () => {
    expect(() => new ProverClient(nc, { timeoutMs: 0 })).toThrow(RangeError);
    expect(() => new ProverClient(nc, { prefix: '' })).toThrow(RangeError);
    expect(ProofSchema.typeName).toBe('merklesync.v1.Proof');
  });
});
