// One client request is one trace across the gateway and the prover: the gateway (in this process, with
// startTelemetry) and the real prover bundle (a child process, its main.ts wiring OTEL_* from its environment)
// export to an OTLP receiver in this process. The prover holds its spans until SIGTERM, so receiving them
// also shows that its main flushes after Nest has closed.
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { createClient } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { MerkleSyncService } from '@merklesync/protocol';
import { startTelemetry, type Telemetry } from '@merklesync/telemetry';
import { OtlpSpanKind, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '@merklesync/telemetry/testing';
import { createTestDb, rng, type TestDb } from '@merklesync/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseGatewayConfig } from '../src/config.ts';
import { GrpcServer } from '../src/grpc/grpc.server.ts';
import { createGatewayApp } from '../src/http-app.ts';
import { Fixture, SCHEMA } from './support/fixture.ts';
import { startProver, type ProverProcess } from './support/prover-process.ts';

const rand = rng(23);
const HOLD = { OTEL_BSP_SCHEDULE_DELAY: '3600000' };
const silent = { log() {}, warn() {} };

let rx: OtlpReceiver;
let telemetry: Telemetry;
let db: TestDb;
let nc: NatsConnection;
let prover: ProverProcess | undefined;
let app: NestFastifyApplication | undefined;
let prefix: string;

beforeAll(async () => {
  rx = await startOtlpReceiver();
  telemetry = startTelemetry({ serviceName: 'gateway', env: { OTEL_EXPORTER_OTLP_ENDPOINT: rx.url, ...HOLD }, logger: silent });
  db = await createTestDb({ prefix: 'ms_gateway_otel' });
  const fx = new Fixture(db.pool);
  await fx.store.migrate();
  for (let i = 0; i < 2; i++) await fx.apply([{ source: 'pg', table: 'public.users', rows: Array.from({ length: 4 }, () => ({ key: rand(32), row: { block: rand(40), commitment: rand(32) } })) }], true);
  nc = await connect({ servers: '127.0.0.1:4222' });
  prefix = `test.gwotel.${randomBytes(6).toString('hex')}`;
  prover = await startProver({ PROVER_DATABASE_URL: db.url, PROVER_DB_SCHEMA: SCHEMA, PROVER_DB_POOL_MAX: '2', PROVER_SUBJECT_PREFIX: prefix, PROVER_HEAD_TTL_MS: '0', OTEL_EXPORTER_OTLP_ENDPOINT: rx.url, ...HOLD }, nc, prefix);
  const config = parseGatewayConfig({ GATEWAY_HTTP_PORT: '0', GATEWAY_GRPC_PORT: '0', GATEWAY_GRPC_HOST: '127.0.0.1', GATEWAY_DATABASE_URL: db.url, GATEWAY_DB_SCHEMA: SCHEMA, GATEWAY_DB_POOL_MAX: '2', GATEWAY_PROVER_PREFIX: prefix });
  app = await createGatewayApp(config, ['error', 'warn']);
  await app.listen(0, '127.0.0.1');
});

afterAll(async () => {
  await app?.close();
  await prover?.stop();
  await telemetry?.shutdown();
  await nc?.close();
  await db?.drop();
  await rx?.close();
});

function only(spans: readonly ReceivedSpan[], pred: (s: ReceivedSpan) => boolean, what: string): ReceivedSpan {
  const found = spans.filter(pred);
  if (found.length !== 1) throw new Error(`expected one ${what}, got ${found.length}: ${JSON.stringify(spans.map((s) => `${s.service}:${s.name}`))}`);
  return found[0]!;
}

describe('traces across gateway and prover', () => {
  it('a REST request and a gRPC call each make one trace: gateway SERVER → prover-client CLIENT → prover SERVER', async () => {
    const gw = app!;
    // REST, with the caller's own traceparent: the gateway's span continues the caller's trace.
    const callerTrace = randomBytes(16).toString('hex');
    const callerSpan = randomBytes(8).toString('hex');
    const res = await fetch(`${(await gw.getUrl()).replace('[::1]', '127.0.0.1')}/v1/checkpoints/latest?consistencyFromSize=4`, { headers: { traceparent: `00-${callerTrace}-${callerSpan}-01` } });
    expect(res.status).toBe(200);
    // gRPC, without one: the gateway's span is the root.
    const grpc = createClient(MerkleSyncService, createGrpcTransport({ baseUrl: `http://127.0.0.1:${gw.get(GrpcServer).port}` }));
    const cp = await grpc.getCheckpoint({ consistencyFromSize: 4n });
    expect(cp.consistency).toBeDefined();

    expect(rx.spans.filter((s) => s.service === 'prover')).toEqual([]); // held until the prover's shutdown
    await gw.close();
    app = undefined;
    await prover!.stop();
    prover = undefined;
    await telemetry.shutdown();
    const spans = rx.spans;

    const http = only(spans, (s) => s.name === 'GET /v1/checkpoints/latest', 'REST server span');
    expect(http).toMatchObject({ service: 'gateway', kind: OtlpSpanKind.Server, traceId: callerTrace, parentSpanId: callerSpan });
    expect(http.attributes['http.response.status_code']).toBe(200);
    const rpc = only(spans, (s) => s.name === 'merklesync.v1.MerkleSyncService/GetCheckpoint', 'gRPC server span');
    expect(rpc).toMatchObject({ service: 'gateway', kind: OtlpSpanKind.Server, parentSpanId: undefined });

    for (const server of [http, rpc]) {
      const send = only(spans, (s) => s.parentSpanId === server.spanId && s.name === `send ${prefix}.checkpoint.latest`, `prover-client span under ${server.name}`);
      expect(send).toMatchObject({ service: 'gateway', kind: OtlpSpanKind.Client, traceId: server.traceId });
      const served = only(spans, (s) => s.parentSpanId === send.spanId, `prover span under ${server.name}`);
      expect(served).toMatchObject({ service: 'prover', kind: OtlpSpanKind.Server, traceId: server.traceId, name: `process ${prefix}.checkpoint.latest` });
    }
  });
});
