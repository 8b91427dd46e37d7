// Bootstrap only: config, tracing propagator, the Nest application context, shutdown hooks.
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { propagation } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@merklesync/messaging';
import { ProverModule } from './app.module.ts';
import { loadProverConfig } from './config.ts';

async function bootstrap(): Promise<void> {
  const config = loadProverConfig();
  // Without an OpenTelemetry SDK nothing registers a propagator; an SDK loaded earlier keeps its own.
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const app = await NestFactory.createApplicationContext(ProverModule.forRoot(config));
  // SIGTERM/SIGINT: drain the subscriptions (in-flight requests are answered), then NATS, then the pool.
  app.enableShutdownHooks();
}

bootstrap().catch((e: unknown) => {
  new Logger('prover').error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
