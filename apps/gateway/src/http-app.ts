// Builds the gateway application: Nest on Fastify, the REST error filter, the OpenAPI document at
// /openapi.json. main.ts and the tests share it; listening is the caller's step.
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { GatewayModule } from './app.module.ts';
import type { GatewayConfig } from './config.ts';
import { HttpErrorsFilter } from './rest/http-errors.filter.ts';
import { traceHttpRequests } from './server-spans.ts';

/** Where the OpenAPI 3 document is served. */
export const OPENAPI_PATH = '/openapi.json';

/**
 * The application, initialised (gRPC listening), not yet listening on HTTP.
 * @example const app = await createGatewayApp(config); await app.listen(config.http.port, config.http.host)
 */
export async function createGatewayApp(config: GatewayConfig, logger: ('log' | 'error' | 'warn')[] | false = ['log', 'error', 'warn']): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(GatewayModule.forRoot(config), new FastifyAdapter(), { logger });
  app.useGlobalFilters(new HttpErrorsFilter());
  traceHttpRequests(app.getHttpAdapter().getInstance());
  const doc: OpenAPIObject = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('MerkleSync gateway')
      .setDescription('Roots, signed checkpoints, ciphertext blocks with proofs, log and map proofs, diffs. Byte strings are lowercase hex; proofs use the libs/merkle JSON form.')
      .setVersion('1')
      .build(),
  );
  app
    .getHttpAdapter()
    .getInstance()
    .get(OPENAPI_PATH, (_req, reply) => {
      void reply.header('content-type', 'application/json').send(JSON.stringify(doc));
    });
  await app.init();
  return app;
}
