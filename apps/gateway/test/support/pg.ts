// A throwaway database per test file: created with a random name, dropped afterwards.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

const ADMIN = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres' };

export interface TestDb {
  readonly name: string;
  readonly url: string;
  readonly pool: pg.Pool;
  drop(): Promise<void>;
}

/** Creates `ms_gateway_<random>` and a pool on it. @example const db = await createTestDb(); afterAll(() => db.drop()) */
export async function createTestDb(): Promise<TestDb> {
  const name = `ms_gateway_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client(ADMIN);
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const pool = new pg.Pool({ ...ADMIN, database: name, max: 4 });
  return {
    name,
    url: `postgres://${ADMIN.user}@${ADMIN.host}:${ADMIN.port}/${name}`,
    pool,
    async drop() {
      await pool.end();
      const c = new pg.Client(ADMIN);
      await c.connect();
      try {
        // Ended pools' backends (ours, the gateway's and the prover's') exit asynchronously: retry "being accessed" with a deadline.
        const deadline = Date.now() + 10_000;
        for (;;) {
          try {
            await c.query(`DROP DATABASE IF EXISTS ${name}`);
            break;
          } catch (e) {
            if ((e as { code?: string }).code !== '55006' || Date.now() > deadline) throw e;
            await new Promise((r) => setTimeout(r, 20));
          }
        }
      } finally {
        await c.end();
      }
    },
  };
}

/** Deterministic pseudo-random bytes (xorshift32), so failures reproduce. */
export function rng(seed: number): (n: number) => Uint8Array {
  let x = seed >>> 0 || 1;
  return (n) => {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      b[i] = x & 0xff;
    }
    return b;
  };
}
