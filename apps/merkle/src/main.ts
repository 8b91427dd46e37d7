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

// V8 starts a full (mark-compact) collection whenever memory outside the JavaScript heap (Buffers: the stream's reads,
// the COPY files of every group) has grown by some tens of MB since the last one, however small the heap. This
// service allocates and drops such memory at the pace of the pipeline; counted with the heap instead, the short-lived
// buffers go with the young generation's collections. bench:stages: 7 → 3 full collections per 100k changes, merkle
// CPU ≈ 15–20 % lower (README "Measured"). A Node whose V8 lacks the flag prints one line and runs as before.
v8.setFlagsFromString('--external-memory-accounted-in-global-limit');

async function main(): Promise<void> {
  const telemetry = startTelemetry({ serviceName: 'merkle', env: process.env, logger: new Logger('telemetry') });
  const config = loadConfig(process.env);
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
