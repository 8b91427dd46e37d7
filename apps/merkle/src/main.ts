// Entry point (bootstrap only): config from the environment, the checkpoint key from its file, then the
// microservice with shutdown hooks (SIGTERM/SIGINT stop pulling, finish the batch in hand, drain, flush the
// spans, exit).
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
import { Logger } from '@nestjs/common';
import { closeOnSignals, startTelemetry } from '@merklesync/telemetry';
import { createMerkleApp, readSignerKey } from './bootstrap.ts';
import { loadConfig } from './config.ts';

async function main(): Promise<void> {
  const telemetry = startTelemetry({ serviceName: 'merkle', env: process.env, logger: new Logger('telemetry') });
  const config = loadConfig(process.env);
  // Before any work: V8 then counts Buffers and typed arrays toward its heap limit instead of starting a full
  // collection whenever they grow by some tens of MB (README "Full collections started by external memory"). A V8
  // without the flag prints one line and runs as before.
  if (config.gcCountExternal) v8.setFlagsFromString('--external-memory-accounted-in-global-limit');
  let signer;
  try {
    signer = readSignerKey(readFileSync(config.checkpoint.signerKeyFile, 'utf8'));
  } catch (e) {
    throw new Error(`MERKLE_CHECKPOINT_KEY_FILE: cannot use ${config.checkpoint.signerKeyFile}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  const app = await createMerkleApp(config, { signer });
  closeOnSignals(app, telemetry, { signals: ['SIGTERM', 'SIGINT'], logger: new Logger('Merkle') });
  await app.listen();
  new Logger('Merkle').log(`consuming ${config.bus.changesStream}/${config.bus.consumer} (${config.bus.changesFilter})`);
}

main().catch((e: unknown) => {
  new Logger('Merkle').error(`start-up failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
