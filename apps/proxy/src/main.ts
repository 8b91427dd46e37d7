// Bootstrap only: config, key material, the Nest application context, shutdown hooks.
import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ProxyModule, loadProxyKeys } from './app.module.ts';
import { parseProxyConfig } from './config.ts';

async function bootstrap(): Promise<void> {
  const config = parseProxyConfig(process.env);
  const keys = await loadProxyKeys(config);
  const app = await NestFactory.createApplicationContext(ProxyModule.forRoot(config, keys));
  app.enableShutdownHooks();
}

bootstrap().catch((e: unknown) => {
  new Logger('proxy').error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
