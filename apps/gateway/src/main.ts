// Bootstrap only: tracing, config, the application, shutdown hooks (then the spans are flushed), listen.
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { closeOnSignals, startTelemetry } from '@merklesync/telemetry';
import { loadGatewayConfig } from './config.ts';
import { createGatewayApp } from './http-app.ts';

async function bootstrap(): Promise<void> {
  const telemetry = startTelemetry({ serviceName: 'gateway', env: process.env, logger: new Logger('telemetry') });
  const config = loadGatewayConfig();
  const app = await createGatewayApp(config);
  // SIGTERM/SIGINT: gRPC sessions are closed, then NATS drains, then the pool closes, then spans are flushed.
  closeOnSignals(app, telemetry, { signals: ['SIGTERM', 'SIGINT', 'SIGHUP'], logger: new Logger('gateway') });
  await app.listen(config.http.port, config.http.host);
  new Logger('gateway').log(`REST on ${config.http.host}:${config.http.port} (OpenAPI at /openapi.json)`);
}

bootstrap().catch((e: unknown) => {
  new Logger('gateway').error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
