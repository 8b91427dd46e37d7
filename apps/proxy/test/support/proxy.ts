// Starts the proxy in-process (Nest application context) against the test Postgres, with a JetStream stream of
// the test's own (never ms.* / MS_*), and a key file in a temp dir.
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import { Keyring, serializeKeyFile } from '@merklesync/crypto';
import { ProxyModule, loadProxyKeys } from '../../src/app.module.ts';
import { ProxyMetrics } from '../../src/capture/metrics.ts';
import { parseProxyConfig, type ProxyConfig } from '../../src/config.ts';
import { ProxyServer } from '../../src/wire/proxy.server.ts';

export interface RunningProxy {
  readonly app: INestApplicationContext;
  readonly port: number;
  readonly config: ProxyConfig;
  readonly metrics: ProxyMetrics;
  readonly keyring: Keyring;
  close(): Promise<void>;
}

export async function startProxy(env: Record<string, string> = {}, backendPort = 5432): Promise<RunningProxy> {
  const run = randomBytes(4).toString('hex');
  const dir = mkdtempSync(join(tmpdir(), 'ms-proxy-test-'));
  const keyring = Keyring.generate('test');
  writeFileSync(join(dir, 'master.key'), serializeKeyFile(keyring), { mode: 0o600 });
  const config = parseProxyConfig({
    PROXY_LISTEN_PORT: '0',
    PROXY_BACKEND_PORT: String(backendPort),
    PROXY_KEY_FILE: join(dir, 'master.key'),
    PROXY_KEY_ID: 'test',
    PROXY_COMMITMENTS_STREAM: `T_PROXY_${run}`,
    PROXY_COMMITMENTS_SUBJECT: `t.proxy${run}.commitments`,
    PROXY_INSTANCE_ID: `t${run}`,
    ...env,
  });
  const app = await NestFactory.createApplicationContext(ProxyModule.forRoot(config, await loadProxyKeys(config)), { logger: ['error'] });
  await app.init();
  const port = app.get(ProxyServer).address().port;
  return { app, port, config, keyring, metrics: app.get(ProxyMetrics), close: () => app.close() };
}
