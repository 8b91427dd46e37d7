// Bootstrap only: tracing, config, key material, the Nest application context, shutdown hooks (then the spans are flushed).
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { closeOnSignals, startTelemetry } from '@merklesync/telemetry';
import { ReplayModule, loadReplayKeys } from './app.module.ts';
import { parseReplayConfig } from './config.ts';

async function bootstrap(): Promise<void> {
  const telemetry = startTelemetry({ serviceName: 'replay', env: process.env, logger: new Logger('telemetry') });
  const config = parseReplayConfig(process.env);
  const keys = await loadReplayKeys(config);
  const app = await NestFactory.createApplicationContext(ReplayModule.forRoot(config, keys));
  closeOnSignals(app, telemetry, { signals: ['SIGTERM', 'SIGINT', 'SIGHUP'], logger: new Logger('replay') });
}

bootstrap().catch((e: unknown) => {
  new Logger('replay').error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
