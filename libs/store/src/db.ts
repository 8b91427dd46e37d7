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

/**
 * `items` sorted by the bytes `key` gives (unsigned lexicographic, as Postgres orders bytea), without
 * allocating per comparison: the first 8 bytes are compared as two numbers, the rest only on a tie.
 * Returns a new array. For 40k 32-byte hashes this is ~10× faster than `Buffer.compare` over `_buf` views.
 * @example _sortedByBytes(nodes, (n) => n.hash)
 */
export function _sortedByBytes<T>(items: readonly T[], key: (item: T) => Uint8Array): T[] {
  const n = items.length;
  const hi = new Float64Array(n);
  const lo = new Float64Array(n);
  const keys: Uint8Array[] = new Array<Uint8Array>(n);
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const k = key(items[i]!);
    keys[i] = k;
    hi[i] = _word(k, 0);
    lo[i] = _word(k, 4);
    idx[i] = i;
  }
  idx.sort((a, b) => hi[a]! - hi[b]! || lo[a]! - lo[b]! || _compareFrom(keys[a]!, keys[b]!, 8));
  const out = new Array<T>(n);
  for (let i = 0; i < n; i++) out[i] = items[idx[i]!]!;
  return out;
}

// Big-endian unsigned 32-bit word at `o` (missing bytes count as below 0x00, so shorter keys sort first).
function _word(k: Uint8Array, o: number): number {
  let w = 0;
  for (let i = o; i < o + 4; i++) w = w * 257 + (i < k.length ? k[i]! + 1 : 0);
  return w;
}

function _compareFrom(a: Uint8Array, b: Uint8Array, from: number): number {
  const n = Math.min(a.length, b.length);
  for (let i = from; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}
