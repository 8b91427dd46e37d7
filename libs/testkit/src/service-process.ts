// Service processes for end-to-end tests and benchmarks: built bundles run as production runs them
// (`node dist/apps/<app>/main.js`, configuration in the environment), with bounded output for failure messages,
// SIGTERM/SIGKILL, and their peak RSS read from /proc.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

/** The workspace root (services run from there). */
export const ROOT = new URL('../../../', import.meta.url).pathname;

/** One service process; output kept (bounded) for error messages. */
export class ServiceProcess {
  readonly app: string;
  private readonly env: Record<string, string>;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private readonly output: string[] = [];
  /** Peak resident set (VmHWM, KiB) read by {@link sampleRss}; kept after the process ends. */
  peakRssKiB: number | undefined;

  constructor(app: string, env: Record<string, string>) {
    this.app = app;
    this.env = env;
  }

  start(): void {
    if (this.child) throw new Error(`${this.app} is already running`);
    const child = spawn(process.execPath, [join(ROOT, 'dist', 'apps', this.app, 'main.js')], {
      cwd: ROOT,
      env: { ...process.env, ...this.env, NODE_ENV: 'production', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer): void => {
      this.output.push(...chunk.toString('utf8').split('\n').filter((l) => l !== ''));
      if (this.output.length > 300) this.output.splice(0, this.output.length - 300);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    this.child = child;
  }

  /** The running process's id. */
  get pid(): number | undefined {
    return this.running ? this.child!.pid : undefined;
  }

  /** start() was called (the process may have ended since). */
  get started(): boolean {
    return this.child !== undefined;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Reads VmHWM (the kernel's peak RSS of the process) from /proc; Linux only, silently nothing elsewhere. */
  sampleRss(): void {
    const pid = this.child?.pid;
    if (pid === undefined || !this.running) return;
    try {
      const m = /^VmHWM:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) this.peakRssKiB = Math.max(this.peakRssKiB ?? 0, Number(m[1]));
    } catch {
      // not Linux, or the process just ended
    }
  }

  logs(lines = 30): string {
    return `--- ${this.app} ---\n${this.output.slice(-lines).join('\n')}`;
  }

  /** SIGKILL: no shutdown hook runs, nothing is flushed or acknowledged (crash tests). */
  async kill(): Promise<void> {
    const c = this.child;
    if (!c) return;
    c.kill('SIGKILL');
    await this.exited;
    this.child = undefined;
  }

  /** SIGTERM and wait; SIGKILL after the deadline. */
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

/** Thrown by a waitFor check to stop waiting at once (a service died): not retried. */
export class Abort extends Error {}

/** Polls `check` until it returns a value (not undefined) or the deadline passes; `describe` explains a timeout. */
export async function waitFor<T>(check: () => Promise<T | undefined>, deadlineMs: number, describe: () => string, everyMs = 50): Promise<T> {
  const end = performance.now() + deadlineMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      if (e instanceof Abort) throw e;
      last = e;
    }
    if (performance.now() > end) {
      throw new Error(`timed out after ${deadlineMs} ms: ${describe()}${last ? `\nlast error: ${last instanceof Error ? last.message : JSON.stringify(last)}` : ''}`);
    }
    await sleep(everyMs);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A TCP port free right now on 127.0.0.1 (the OS picks it; a tiny race until the service binds it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
