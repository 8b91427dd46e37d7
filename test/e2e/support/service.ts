import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

const ROOT = new URL('../../../', import.meta.url).pathname;

/**
 * One MerkleSync service run the way production runs it: `node dist/apps/<app>/main.js` with its configuration
 * in the environment. Output is kept (bounded) for failure messages; kill() is a real SIGKILL.
 */
export class ServiceProcess {
  readonly app: string;
  readonly env: Record<string, string>;
  private child: ChildProcess | undefined;
  private exited: Promise<number | null> = Promise.resolve(null);
  private readonly output: string[] = [];

  constructor(app: string, env: Record<string, string>) {
    this.app = app;
    this.env = env;
  }

  start(): void {
    if (this.child) throw new Error(`${this.app} is already running`);
    const child = spawn(process.execPath, [join(ROOT, 'dist', 'apps', this.app, 'main.js')], {
      cwd: ROOT,
      env: { ...process.env, ...this.env, NODE_ENV: 'production' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer): void => {
      this.output.push(...chunk.toString('utf8').split('\n').filter((l) => l !== ''));
      if (this.output.length > 400) this.output.splice(0, this.output.length - 400);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    this.child = child;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The last lines the process printed (for assertion messages). */
  logs(lines = 40): string {
    return `--- ${this.app} ---\n${this.output.slice(-lines).join('\n')}`;
  }

  /** SIGKILL: no shutdown hook runs, nothing is flushed or acknowledged. */
  async kill(): Promise<void> {
    const c = this.child;
    if (!c) return;
    c.kill('SIGKILL');
    await this.exited;
    this.child = undefined;
  }

  /** SIGTERM and wait (SIGKILL after the deadline). */
  async stop(deadlineMs = 15_000): Promise<void> {
    const c = this.child;
    if (!c) return;
    if (this.running) c.kill('SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), deadlineMs);
    await this.exited;
    clearTimeout(timer);
    this.child = undefined;
  }
}

/** Polls `check` until it returns a value (not undefined) or the deadline passes; `describe` explains a timeout. */
export async function waitFor<T>(check: () => Promise<T | undefined>, deadlineMs: number, describe: () => string): Promise<T> {
  const end = Date.now() + deadlineMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${deadlineMs} ms: ${describe()}${last ? `\nlast error: ${last instanceof Error ? last.message : JSON.stringify(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A TCP port free on 127.0.0.1 right now (the OS picks it; a service started next binds it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return address.port;
}
