// Bootstrap only: config, tracing propagator, the application, shutdown hooks, listen.
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { propagation } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@merklesync/messaging';
import { loadGatewayConfig } from './config.ts';
import { createGatewayApp } from './http-app.ts';

async function bootstrap(): Promise<void> {
  const config = loadGatewayConfig();
  // Without an OpenTelemetry SDK nothing registers a propagator; an SDK loaded earlier keeps its own.
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const app = await createGatewayApp(config);
  // SIGTERM/SIGINT: gRPC sessions are closed, then NATS drains, then the pool closes.
  app.enableShutdownHooks();
  await app.listen(config.http.port, config.http.host);
  new Logger('gateway').log(`REST on ${config.http.host}:${config.http.port} (OpenAPI at /openapi.json)`);
}

bootstrap().catch((e: unknown) => {
  new Logger('gateway').error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
