// Replay's verdicts through the gateway: REST (with its OpenAPI entries) and gRPC, read from the table replay
// writes (libs/verification-store) in a database of this test.
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { Code, createClient, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { HashSuite, MerkleSyncService, newEvent, type VerificationResult } from '@merklesync/protocol';
import { createTestDb, type TestDb } from '@merklesync/testkit';
import { DEFAULT_VERIFICATIONS_SCHEMA, VerificationStore } from '@merklesync/verification-store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGatewayConfig } from '../src/config.ts';
import { GrpcServer } from '../src/grpc/grpc.server.ts';
import { createGatewayApp } from '../src/http-app.ts';
import { getJson, grpcCode } from './support/calls.ts';

let db: TestDb;
let app: NestFastifyApplication;
let base: string;
let grpc: Client<typeof MerkleSyncService>;
const h = (b: number): Uint8Array => new Uint8Array(32).fill(b);

function result(i: number, success: boolean): VerificationResult {
  return newEvent('verification-result', {
    transactionId: `proxy-t-${i}`,
    querySequence: BigInt(i),
    success,
    hashSuite: HashSuite.SHA256,
    preRoot: h(1),
    postRootClaimed: h(2),
    postRootCalculated: success ? h(2) : h(3),
    mismatches: success ? [] : [{ table: 'public.accounts', claimedRoot: h(4), calculatedRoot: h(5), keys: [{ mapKey: h(6), claimedLeaf: h(7), calculatedLeaf: new Uint8Array(0) }] }],
    verifiedAtUnixMicros: 1_700_000_000_000_000n + BigInt(i),
  });
}

const http = (path: string): ReturnType<typeof getJson> => getJson(`${base}${path}`);

beforeAll(async () => {
  db = await createTestDb({ prefix: 'ms_gw_verif' });
  const config = parseGatewayConfig({
    GATEWAY_HTTP_PORT: '0',
    GATEWAY_GRPC_PORT: '0',
    GATEWAY_GRPC_HOST: '127.0.0.1',
    GATEWAY_DATABASE_URL: db.url,
    GATEWAY_DB_POOL_MAX: '2',
    GATEWAY_PROVER_PREFIX: `test.gwv.${randomBytes(6).toString('hex')}`,
  });
  app = await createGatewayApp(config, ['error']);
  await app.listen(0, '127.0.0.1');
  base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  grpc = createClient(MerkleSyncService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${app.get(GrpcServer).port}` }));
});

afterAll(async () => {
  await app?.close();
  await db?.drop();
});

describe('verification results', () => {
  it('answers NOT_FOUND / an empty list before replay has written anything', async () => {
    expect((await http('/v1/verifications/nope')).status).toBe(404);
    expect((await http('/v1/verifications')).body).toEqual({ results: [], nextPageToken: '' });
    expect(await grpcCode(grpc.getVerificationResult({ transactionId: 'nope' }))).toBe(Code.NotFound);
  });

  it('serves results by transaction id and in pages over REST and gRPC, hex only, no plaintext', async () => {
    const store = new VerificationStore(db.pool, DEFAULT_VERIFICATIONS_SCHEMA);
    await store.migrate();
    for (let i = 1; i <= 5; i++) await store.put(result(i, i !== 3));

    const one = await http('/v1/verifications/proxy-t-3');
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({
      transactionId: 'proxy-t-3',
      querySequence: '3',
      success: false,
      hashSuite: 'sha256',
      postRootCalculated: '03'.repeat(32),
      mismatches: [{ table: 'public.accounts', claimedRoot: '04'.repeat(32), calculatedRoot: '05'.repeat(32), keys: [{ mapKey: '06'.repeat(32), claimedLeaf: '07'.repeat(32), calculatedLeaf: '' }] }],
      error: '',
    });
    const page = await http('/v1/verifications?pageSize=2');
    expect((page.body.results as { transactionId: string }[]).map((r) => r.transactionId)).toEqual(['proxy-t-5', 'proxy-t-4']);
    const next = await http(`/v1/verifications?pageSize=2&pageToken=${String(page.body.nextPageToken)}`);
    expect((next.body.results as { transactionId: string }[]).map((r) => r.transactionId)).toEqual(['proxy-t-3', 'proxy-t-2']);
    const failures = await http('/v1/verifications?failuresOnly=true');
    expect((failures.body.results as { transactionId: string }[]).map((r) => r.transactionId)).toEqual(['proxy-t-3']);

    const g = await grpc.getVerificationResult({ transactionId: 'proxy-t-2' });
    expect(g.result?.success).toBe(true);
    const gl = await grpc.listVerificationResults({ pageSize: 10, failuresOnly: true });
    expect(gl.results.map((r) => r.transactionId)).toEqual(['proxy-t-3']);
    expect(Buffer.from(gl.results[0]!.mismatches[0]!.keys[0]!.mapKey).toString('hex')).toBe('06'.repeat(32));
  });

  it('refuses bad arguments with INVALID_ARGUMENT on both transports', async () => {
    expect((await http('/v1/verifications?pageSize=abc')).status).toBe(400);
    expect((await http('/v1/verifications?pageToken=garbage')).status).toBe(400);
    expect((await http('/v1/verifications?failuresOnly=yes')).status).toBe(400);
    expect(await grpcCode(grpc.listVerificationResults({ pageSize: 5000 }))).toBe(Code.InvalidArgument);
    expect(await grpcCode(grpc.getVerificationResult({ transactionId: '' }))).toBe(Code.InvalidArgument);
  });

  it('documents the routes in the OpenAPI document', async () => {
    const doc = await http('/openapi.json');
    const paths = doc.body.paths as Record<string, unknown>;
    expect(Object.keys(paths)).toEqual(expect.arrayContaining(['/v1/verifications', '/v1/verifications/{transactionId}']));
  });
});
