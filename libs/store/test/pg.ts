import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** Where the test Postgres listens (test/infra/services.sh starts it). */
const ADMIN = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres' };

/** A throwaway database for one test file: created with a random name, dropped by `drop()`. */
export interface TestDb {
  readonly name: string;
  readonly pool: pg.Pool;
  /** Another pool on the same database (concurrency tests). */
  newPool(): pg.Pool;
  drop(): Promise<void>;
}

/** Creates `ms_test_<random>` and a pool on it. @example const db = await createTestDb(); afterAll(() => db.drop()) */
export async function createTestDb(): Promise<TestDb> {
  const name = `ms_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client(ADMIN);
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const pools: pg.Pool[] = [];
  const newPool = (): pg.Pool => {
    const p = new pg.Pool({ ...ADMIN, database: name, max: 4 });
    pools.push(p);
    return p;
  };
  return {
    name,
    pool: newPool(),
    newPool,
    async drop() {
      await Promise.all(pools.map((p) => p.end()));
      const c = new pg.Client(ADMIN);
      await c.connect();
      try {
        // Ended pools' backends exit asynchronously; FORCE would kill them mid-goodbye (an uncaught FATAL on
        // the closing client), so wait for them with a deadline instead.
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
