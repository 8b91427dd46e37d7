// Building the services for the pipeline benchmark; running them is @merklesync/testkit's ServiceProcess.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '@merklesync/testkit';
import { flag } from '../args.ts';

export { Abort, ServiceProcess, freePort, sleep, waitFor } from '@merklesync/testkit';

/** Runs `node tools/build-app.mjs <app>` for each app, in parallel; rejects with the builder's output on failure. */
async function buildApps(apps: readonly string[]): Promise<void> {
  await Promise.all(
    apps.map(
      (app) =>
        new Promise<void>((resolve, reject) => {
          const child = spawn(process.execPath, [join(ROOT, 'tools', 'build-app.mjs'), app], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
          let out = '';
          child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
          child.stderr.on('data', (c: Buffer) => (out += c.toString('utf8')));
          child.once('error', reject);
          child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`build of ${app} failed (exit ${code}):\n${out}`))));
        }),
    ),
  );
}

/** Builds `apps` (reporting it through `progress`) unless the command line has --no-build: then dist/apps runs as it is. */
export async function buildAppsUnlessSkipped(apps: readonly string[], progress: (m: string) => void): Promise<void> {
  if (flag('--no-build')) return;
  progress(`building ${apps.join(', ')}`);
  await buildApps(apps);
}
