// A throwaway database per test file on the shared test Postgres: created with a random name, dropped afterwards.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** Where the test Postgres listens (test/infra/services.sh starts it). */
const ADMIN = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres' };

/** How {@link createTestDb} names and sizes the database. */
export interface TestDbOptions {
  /** Name prefix: the database is `<prefix>_<12 hex>`. Default `ms_test`. */
  readonly prefix?: string;
  /** Connections per pool. Default 4. */
  readonly max?: number;
  /** How long `drop()` waits for closing backends before it gives up. Default 10 000 ms. */
  readonly dropTimeoutMs?: number;
}

/** A throwaway database: `drop()` ends every pool made here and drops it. */
export interface TestDb {
  readonly name: string;
  /** A `postgres://` URL of the database (for services configured by URL). */
  readonly url: string;
  readonly pool: pg.Pool;
  /** Another pool on the same database (concurrency tests); ended by `drop()`. */
  newPool(): pg.Pool;
  drop(): Promise<void>;
}

/**
 * Creates `<prefix>_<random>` and a pool on it.
 * @throws whatever pg throws when the server is unreachable or the database cannot be created.
 * @example const db = await createTestDb({ prefix: 'ms_prover' }); afterAll(() => db.drop())
 */
export async function createTestDb(options: TestDbOptions = {}): Promise<TestDb> {
  const { prefix = 'ms_test', max = 4, dropTimeoutMs = 10_000 } = options;
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client(ADMIN);
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const pools: pg.Pool[] = [];
  const newPool = (): pg.Pool => {
    const p = new pg.Pool({ ...ADMIN, database: name, max });
    pools.push(p);
    return p;
  };
  return {
    name,
    url: `postgres://${ADMIN.user}@${ADMIN.host}:${ADMIN.port}/${name}`,
    pool: newPool(),
    newPool,
    async drop() {
      await Promise.all(pools.map((p) => p.end()));
      const c = new pg.Client(ADMIN);
      await c.connect();
      try {
        // Ended pools' backends (ours and those of services under test) exit asynchronously; FORCE would kill
        // them mid-goodbye (an uncaught FATAL on the closing client), so retry "being accessed" with a deadline.
        const deadline = Date.now() + dropTimeoutMs;
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
