// Root module of the proxy: NATS (the commitments stream provisioned at start-up), the key material, the record
// service and the TCP listener.
import { readFile } from 'node:fs/promises';
import { Module, type DynamicModule } from '@nestjs/common';
import { LocalKeyProvider, type KeyProvider } from '@merklesync/crypto';
import { MessagingModule } from '@merklesync/messaging';
import { ProxyMetrics } from './capture/metrics.ts';
import { RecordService } from './capture/record.service.ts';
import type { ProxyConfig } from './config.ts';
import { ProxyError, ProxyErrorCode } from './errors.ts';
import { KEY_PROVIDER, PROXY_CONFIG } from './tokens.ts';
import { ProxyServer } from './wire/proxy.server.ts';

/**
 * Reads the key file once and checks the key id and commitment version are in it.
 * @throws ProxyError(KEY_MATERIAL) naming the variable.
 */
export async function loadProxyKeys(config: ProxyConfig): Promise<KeyProvider> {
  if (!config.capture) return new LocalKeyProvider([]);
  let provider: LocalKeyProvider;
  try {
    provider = LocalKeyProvider.fromKeyFile(await readFile(config.keys.file, 'utf8'));
  } catch (e) {
    throw new ProxyError(ProxyErrorCode.KeyMaterial, `PROXY_KEY_FILE: cannot use ${config.keys.file}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  const ring = provider.keyring(config.keys.kid);
  if (!ring) throw new ProxyError(ProxyErrorCode.KeyMaterial, `PROXY_KEY_ID: key file holds ${provider.kids().join(', ')}, not ${config.keys.kid}`);
  if (!ring.key(config.keys.commitmentKeyVersion)) throw new ProxyError(ProxyErrorCode.KeyMaterial, `PROXY_COMMITMENT_KEY_VERSION: key ${config.keys.kid} has no version ${config.keys.commitmentKeyVersion}`);
  return provider;
}

@Module({})
export class ProxyModule {
  static forRoot(config: ProxyConfig, keys: KeyProvider): DynamicModule {
    return {
      module: ProxyModule,
      imports: [
        MessagingModule.forRoot({
          connection: { servers: config.nats.servers, name: config.nats.name },
          streams: config.capture ? [{ name: config.stream.name, subjects: [config.stream.subject], replicas: config.stream.replicas, maxAgeMs: 7 * 86_400_000 }] : [],
        }),
      ],
      providers: [{ provide: PROXY_CONFIG, useValue: config }, { provide: KEY_PROVIDER, useValue: keys }, ProxyMetrics, RecordService, ProxyServer],
      exports: [ProxyServer, ProxyMetrics],
    };
  }
}
