// Every generated message, filled with random values for every field (all oneof cases over the runs),
// survives binary and JSON round trips; the generated code runs under Node's type stripping.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { create, equals, fromBinary, fromJson, toBinary, toJson, type DescMessage } from '@bufbuild/protobuf';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { file_merklesync_v1_common } from './gen/merklesync/v1/common_pb.ts';
import { file_merklesync_v1_events } from './gen/merklesync/v1/events_pb.ts';
import { file_merklesync_v1_proofs } from './gen/merklesync/v1/proofs_pb.ts';
import { file_merklesync_v1_service } from './gen/merklesync/v1/service_pb.ts';

const FILES = [file_merklesync_v1_common, file_merklesync_v1_proofs, file_merklesync_v1_events, file_merklesync_v1_service];

function allMessages(): DescMessage[] {
  const out: DescMessage[] = [];
  const walk = (m: DescMessage): void => {
    out.push(m);
    m.nestedMessages.forEach(walk);
  };
  for (const f of FILES) f.messages.forEach(walk);
  return out;
}

// Scalar type numbers of google.protobuf.FieldDescriptorProto.Type used in merklesync.v1.
function scalar(rng: () => number, type: number): unknown {
  switch (type) {
    case 8: // bool
      return rng() < 0.5;
    case 9: // string
      return ['', 'a', 'public.users', 'café ☕'][Math.floor(rng() * 4)];
    case 12: // bytes
      return new Uint8Array(Math.floor(rng() * 40)).map(() => Math.floor(rng() * 256));
    case 13: // uint32
      return Math.floor(rng() * 2 ** 32);
    case 4: // uint64
      return BigInt(Math.floor(rng() * 2 ** 53)) * 1024n + 7n;
    default:
      throw new Error(`scalar type ${type} not covered by the test`);
  }
}

function fill(desc: DescMessage, rng: () => number, depth: number): Record<string, unknown> {
  const init: Record<string, unknown> = {};
  const value = (f: DescMessage['fields'][number]): unknown => {
    switch (f.fieldKind) {
      case 'scalar':
        return scalar(rng, f.scalar);
      case 'enum':
        return f.enum.values[Math.floor(rng() * f.enum.values.length)]!.number;
      case 'message':
        return depth > 3 ? undefined : create(f.message, fill(f.message, rng, depth + 1));
      case 'list': {
        const n = depth > 3 ? 0 : Math.floor(rng() * 3);
        return Array.from({ length: n }, () =>
          f.listKind === 'scalar' ? scalar(rng, f.scalar) : f.listKind === 'enum' ? f.enum.values[0]!.number : create(f.message, fill(f.message, rng, depth + 1)),
        );
      }
      case 'map':
        return {};
    }
  };
  for (const f of desc.fields) {
    if (f.oneof !== undefined) continue;
    const v = value(f);
    if (v !== undefined) init[f.localName] = v;
  }
  for (const o of desc.oneofs) {
    const f = o.fields[Math.floor(rng() * (o.fields.length + 1))];
    if (f === undefined) continue; // unset oneof
    const v = value(f);
    if (v !== undefined) init[o.localName] = { case: f.localName, value: v };
  }
  return init;
}

describe('generated code', () => {
  const messages = allMessages();

  it('covers the whole package', () => {
    expect(messages.length).toBeGreaterThan(45);
    expect(file_merklesync_v1_service.services[0]!.methods.map((m) => m.name)).toEqual([
      'SubmitBlock', 'GetMerkleRoot', 'GenerateProof', 'VerifyProof', 'DiffTrees', 'SyncRequest',
      'GetCheckpoint', 'WatchCheckpoints', 'GetBlock', 'GetVerificationResult', 'ListVerificationResults',
    ]);
    const kinds = Object.fromEntries(file_merklesync_v1_service.services[0]!.methods.map((m) => [m.name, m.methodKind]));
    expect(kinds.SyncRequest).toBe('server_streaming');
    expect(kinds.WatchCheckpoints).toBe('server_streaming');
  });

  it.each(messages.map((m) => [m.typeName, m] as const))('%s round trips (binary and JSON)', (_name, desc) => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        let s = seed >>> 0;
        const rng = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
        const m = create(desc, fill(desc, rng, 0));
        expect(equals(desc, fromBinary(desc, toBinary(desc, m)), m)).toBe(true);
        expect(equals(desc, fromJson(desc, toJson(desc, m)), m)).toBe(true);
      }),
      { numRuns: 25 },
    );
  });

  it('runs under plain Node type stripping (erasable syntax, .ts imports)', () => {
    const entry = fileURLToPath(new URL('./index.ts', import.meta.url));
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(entry)}); console.log(String(m.HashSuite.SHA256) + " " + String(m.RowOperation.DELETE))`], { encoding: 'utf8' });
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.stdout.trim()).toBe('1 3');
  });

  it('matches the .proto files (check-generated)', () => {
    const script = fileURLToPath(new URL('../scripts/check-generated.ts', import.meta.url));
    const r = spawnSync(process.execPath, [script], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
