// The replay environments: one empty database per worker, created fresh at start-up (dropped and recreated, so
// nothing survives a crash) and dropped at shutdown. A job never commits there: it builds its tables, replays and
// captures inside one transaction and rolls it back, so every job starts from the same empty database.
import pg from 'pg';

export interface ReplayWorker {
  readonly index: number;
  readonly client: pg.Client;
}

export class WorkerPool {
  readonly #adminUrl: string;
  readonly #names: string[];
  readonly #idle: ReplayWorker[] = [];
  readonly #all: ReplayWorker[] = [];
  readonly #waiting: ((w: ReplayWorker) => void)[] = [];

  constructor(adminUrl: string, prefix: string, instance: string, size: number) {
    this.#adminUrl = adminUrl;
    // Pod names carry '-' and '.', and database names are at most 63 bytes: map both away (the pod name's unique
    // suffix is at its end, so a long name keeps its tail).
    const id = instance.replace(/[^a-z0-9_]/g, '_').slice(-24);
    this.#names = Array.from({ length: size }, (_, i) => `${prefix}_${id}_w${i}`);
  }

  get size(): number {
    return this.#names.length;
  }

  async start(): Promise<void> {
    const admin = new pg.Client({ connectionString: this.#adminUrl, application_name: 'replay-admin' });
    await admin.connect();
    try {
      for (const name of this.#names) {
        // Names are checked by the config (lower-case letters, digits, '_'), never from a record.
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await admin.query(`CREATE DATABASE ${name} TEMPLATE template0`);
      }
    } finally {
      await admin.end();
    }
    const url = new URL(this.#adminUrl);
    for (const [index, name] of this.#names.entries()) {
      url.pathname = `/${name}`;
      const client = new pg.Client({ connectionString: url.toString(), application_name: `replay-w${index}` });
      client.on('error', () => undefined);
      await client.connect();
      const w = { index, client };
      this.#all.push(w);
      this.#idle.push(w);
    }
  }

  acquire(): Promise<ReplayWorker> {
    const w = this.#idle.pop();
    if (w) return Promise.resolve(w);
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  release(w: ReplayWorker): void {
    const next = this.#waiting.shift();
    if (next) next(w);
    else this.#idle.push(w);
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.#all.map((w) => w.client.end()));
    const admin = new pg.Client({ connectionString: this.#adminUrl });
    await admin.connect();
    try {
      for (const name of this.#names) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await admin.end();
    }
  }
}
