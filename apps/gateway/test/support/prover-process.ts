// Runs the real prover as a child process from its bundle (apps never import each other): built once with
// tools/build-app.mjs, started with its own environment, ready once it answers, stopped with SIGTERM.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProverClient, ProverClientError, ProverClientErrorCode, type ProverRequester } from '@merklesync/prover-client';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

export interface ProverProcess {
  stop(): Promise<void>;
}

/**
 * Builds and starts the prover; resolves once it answers a checkpoint request on `prefix`.
 * @example const prover = await startProver({ PROVER_DATABASE_URL: db.url, PROVER_SUBJECT_PREFIX: prefix }, nc, prefix)
 */
export async function startProver(env: Record<string, string>, nc: ProverRequester, prefix: string): Promise<ProverProcess> {
  const build = spawnSync(process.execPath, [join(ROOT, 'tools', 'build-app.mjs'), 'prover'], { cwd: ROOT, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`prover build failed: ${build.stderr}`);
  const child: ChildProcess = spawn(process.execPath, [join(ROOT, 'dist', 'apps', 'prover', 'main.js')], {
    cwd: ROOT,
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const client = new ProverClient(nc, { prefix, timeoutMs: 1000 });
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prover exited: ${stderr}`);
    try {
      await client.getCheckpoint();
      break;
    } catch (e) {
      if (!(e instanceof ProverClientError)) throw e;
      if (e.code === ProverClientErrorCode.NotFound) break;
      if (Date.now() > deadline) throw new Error(`prover not ready: ${e.message}; ${stderr}`, { cause: e });
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
