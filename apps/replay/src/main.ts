// Bootstrap only: config, key material, the Nest application context, shutdown hooks.
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ReplayModule, loadReplayKeys } from './app.module.ts';
import { parseReplayConfig } from './config.ts';

async function bootstrap(): Promise<void> {
  const config = parseReplayConfig(process.env);
  const keys = await loadReplayKeys(config);
  const app = await NestFactory.createApplicationContext(ReplayModule.forRoot(config, keys));
  app.enableShutdownHooks();
}

bootstrap().catch((e: unknown) => {
  new Logger('replay').error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
