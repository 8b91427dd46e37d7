import pg from 'pg';

/** The part of pg's connection a COPY FROM STDIN writes to (pg 8.x: `endCopyFrom` and the socket, `stream`). */
interface _CopyConnection {
  endCopyFrom(): void;
  stream: { writable: boolean; cork(): void; uncork(): void; write(b: Uint8Array): boolean };
}

/** CopyData message type byte ('d'). */
const _COPY_DATA = 0x64;

const _CHUNK = 1 << 20;

/** Binary COPY file header (signature, flags 0, header extension length 0) and trailer (field count −1). */
export const COPY_HEADER: Readonly<Uint8Array> = Uint8Array.from([0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00, 0, 0, 0, 0, 0, 0, 0, 0]);
export const COPY_TRAILER: Readonly<Uint8Array> = Uint8Array.of(0xff, 0xff);

/**
 * `Buffer.allocUnsafe`, the COPY file writers' default allocator: one function object for every call (a closure
 * made per call defeats the inlining of the optimised writers).
 */
export const _allocUnsafe = (size: number): Buffer => Buffer.allocUnsafe(size);

/**
 * Runs `COPY … FROM STDIN (FORMAT binary)` on `client`, sending `payload` (a complete binary COPY file).
 * pg has no COPY API of its own; its Query calls `handleCopyInResponse(connection)` when the server asks
 * for data (that is the hook pg-copy-streams uses), so a Query with that method overridden streams the
 * payload. Relies on pg 8.x internals: the version is pinned in package.json.
 * @throws the server's error (e.g. malformed data) as a pg.DatabaseError.
 * @example await copyFromBinary(client, 'COPY t (a, b) FROM STDIN (FORMAT binary)', payload)
 */
export function copyFromBinary(client: pg.ClientBase, sql: string, payload: Buffer): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const q = new pg.Query(sql) as pg.Query & { handleCopyInResponse: (con: _CopyConnection) => void };
    q.handleCopyInResponse = (con) => {
      // Each CopyData message as its 5-byte header and a view of the payload, written together: pg's own
      // sendCopyFromChunk copies every chunk into a new buffer first (one more allocation of the file's size).
      // A connection that is gone writes nothing (as pg's own writes): its error ends the query.
      const out = con.stream;
      if (out.writable) {
        out.cork();
        for (let i = 0; i < payload.length; i += _CHUNK) {
          const chunk = payload.subarray(i, i + _CHUNK);
          const head = Buffer.allocUnsafe(5);
          head[0] = _COPY_DATA;
          head.writeInt32BE(chunk.length + 4, 1);
          out.write(head);
          out.write(chunk);
        }
        out.uncork();
      }
      con.endCopyFrom();
    };
    q.on('end', () => resolve());
    q.on('error', reject);
    void client.query(q);
  });
}

/**
 * Runs `use` inside the client's transaction, or in one opened (and committed, or rolled back on a failure) here
 * when the client is not in one.
 * @example await inClientTransaction(c, async () => { await c.query(…); await c.query(…) })
 */
export async function inClientTransaction<T>(client: pg.ClientBase, use: () => Promise<T>): Promise<T> {
  const own = client.getTransactionStatus() !== 'T';
  if (own) await client.query('BEGIN');
  try {
    const out = await use();
    if (own) await client.query('COMMIT');
    return out;
  } catch (e) {
    if (own) await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}

/**
 * Runs `use` with session temp table `name` (created by `columns` if absent), in a transaction (opened here when
 * the client is not in one). `use` copies rows in and should take them out as it reads them (DELETE … RETURNING);
 * the table is ON COMMIT DELETE ROWS, so its file is cut back to empty at commit either way. Emptying it by
 * TRUNCATE instead gave the table a new file every time: a catalog update, shared invalidation messages to every
 * backend, and an unlink at commit.
 * @example await withStagingTable(c, '_ms_t_in', '(a bytea)', async () => { await copyFromBinary(c, …); return c.query(…) })
 */
export function withStagingTable<T>(client: pg.ClientBase, name: string, columns: string, use: () => Promise<T>): Promise<T> {
  return inClientTransaction(client, async () => {
    await client.query(`CREATE TEMP TABLE IF NOT EXISTS ${name} ${columns} ON COMMIT DELETE ROWS`);
    return use();
  });
}

/**
 * COPY straight into a table, inside a savepoint named `savepoint` when the client is in a transaction. Resolves
 * true when every row was written; false when a row met a stored one (unique violation): the COPY is undone (to the
 * savepoint; outside a transaction a failed COPY leaves nothing) and the caller takes a path that handles conflicts.
 * @throws any other error of the server, as a pg.DatabaseError.
 * @example if (!(await copyUnlessConflict(c, 'COPY t (a) FROM STDIN (FORMAT binary)', file, 'ms_t'))) await upsert()
 */
export async function copyUnlessConflict(client: pg.ClientBase, sql: string, payload: Buffer, savepoint: string): Promise<boolean> {
  const inTx = client.getTransactionStatus() === 'T';
  if (inTx) await client.query(`SAVEPOINT ${savepoint}`);
  try {
    await copyFromBinary(client, sql, payload);
  } catch (e) {
    if (!(e instanceof pg.DatabaseError && e.code === '23505')) throw e;
    if (inTx) await client.query(`ROLLBACK TO SAVEPOINT ${savepoint}`);
    return false;
  }
  if (inTx) await client.query(`RELEASE SAVEPOINT ${savepoint}`);
  return true;
}
