import pg from 'pg';
import { StoreError, StoreErrorCode } from './errors.ts';

/**
 * What the store needs from Postgres: a pool to check clients out of. `pg.Pool` satisfies it; the port
 * exists so services inject the pool they configured (and tests their own database).
 */
export interface PgPool {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
  connect(): Promise<pg.PoolClient>;
}

/** Anything that runs a query: the pool, or a client inside a transaction. */
export interface Queryable {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

/**
 * Runs `work` in one transaction on a dedicated client: COMMIT when it resolves, ROLLBACK when it throws
 * (the error is rethrown, database errors wrapped as StoreError(DATABASE)).
 * @throws whatever `work` throws; StoreError(DATABASE) when BEGIN/COMMIT fail.
 * @example await inTransaction(pool, async (tx) => { await tx.query('...') })
 */
export async function inTransaction<T>(pool: PgPool, work: (tx: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect().catch((e: unknown) => {
    throw _dbError('connect', e);
  });
  let broken = false;
  try {
    await client.query('BEGIN');
    const out = await work(client);
    await client.query('COMMIT');
    return out;
  } catch (e) {
    try {
      await client.query('ROLLBACK');
    } catch {
      // A connection that cannot even roll back must not go back to the pool.
      broken = true;
    }
    // Only driver errors are re-typed; the caller's own errors (domain, TypeError, ...) pass unchanged.
    throw e instanceof pg.DatabaseError ? _dbError('transaction', e) : e;
  } finally {
    client.release(broken);
  }
}

/** Wraps a driver error, keeping it as the cause (its SQLSTATE `code` stays reachable there). */
export function _dbError(what: string, e: unknown): StoreError {
  if (e instanceof StoreError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  return new StoreError(StoreErrorCode.Database, `${what} failed: ${msg}`, { cause: e });
}

/** A 32-byte hash as a Buffer view (no copy) for a bytea parameter. */
export function _buf(b: Uint8Array): Buffer {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

/** A bytea result as a plain Uint8Array view (no copy). */
export function _bytes(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}
