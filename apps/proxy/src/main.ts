// Bootstrap only: tracing, config, key material, the Nest application context, shutdown hooks (then the spans are flushed).
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { closeOnSignals, startTelemetry } from '@merklesync/telemetry';
import { ProxyModule, loadProxyKeys } from './app.module.ts';
import { parseProxyConfig } from './config.ts';

async function bootstrap(): Promise<void> {
  const telemetry = startTelemetry({ serviceName: 'proxy', env: process.env, logger: new Logger('telemetry') });
  const config = parseProxyConfig(process.env);
  const keys = await loadProxyKeys(config);
  const app = await NestFactory.createApplicationContext(ProxyModule.forRoot(config, keys));
  closeOnSignals(app, telemetry, { signals: ['SIGTERM', 'SIGINT', 'SIGHUP'], logger: new Logger('proxy') });
}

bootstrap().catch((e: unknown) => {
  new Logger('proxy').error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
