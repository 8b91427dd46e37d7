import pg from 'pg';

/** The part of pg's connection a COPY FROM STDIN writes to. */
interface _CopyConnection {
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
}

const _CHUNK = 1 << 20;

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
      for (let i = 0; i < payload.length; i += _CHUNK) con.sendCopyFromChunk(payload.subarray(i, i + _CHUNK));
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

/** Binary COPY file header: signature, flags (0), header extension length (0). */
const _HEADER = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]);

/** Column types {@link binaryCopyOfRows} encodes (Postgres binary COPY formats). */
export type CopyColumn = 'text' | 'bytea' | 'int2' | 'int8';
/** A value of a column: string (text), bytes (bytea), number (int2), number or bigint (int8), null. */
export type CopyValue = string | Uint8Array | number | bigint | null;

/**
 * A binary COPY file of rows of the given column types (null → SQL NULL).
 * @example binaryCopyOfRows(['text', 'bytea', 'int8'], [['pg', key, 7n]])
 */
export function binaryCopyOfRows(columns: readonly CopyColumn[], rows: readonly (readonly CopyValue[])[]): Buffer {
  // One pass sizes the file, one writes it; no per-row arrays or closures (this runs once per stored block).
  // Text values repeat (source and table names): each distinct string is encoded once.
  const texts = new Map<string, Buffer>();
  const ncol = columns.length;
  let size = _HEADER.length + 2 + rows.length * (2 + 4 * ncol);
  for (const r of rows) {
    for (let i = 0; i < ncol; i++) {
      const v = r[i]!;
      if (v === null) continue;
      const c = columns[i];
      if (c === 'text') {
        let b = texts.get(v as string);
        if (b === undefined) texts.set(v as string, (b = Buffer.from(v as string, 'utf8')));
        size += b.length;
      } else size += c === 'int2' ? 2 : c === 'int8' ? 8 : (v as Uint8Array).length;
    }
  }
  const out = Buffer.allocUnsafe(size);
  _HEADER.copy(out, 0);
  let o = _HEADER.length;
  for (const r of rows) {
    o = out.writeInt16BE(ncol, o);
    for (let i = 0; i < ncol; i++) {
      const v = r[i]!;
      const c = columns[i];
      if (v === null) {
        o = out.writeInt32BE(-1, o);
      } else if (c === 'int2') {
        o = out.writeInt32BE(2, o);
        o = out.writeInt16BE(v as number, o);
      } else if (c === 'int8') {
        o = out.writeInt32BE(8, o);
        if (typeof v === 'number' && Number.isSafeInteger(v)) {
          // Two 32-bit halves: no BigInt per value (negative values too: hi is the floor).
          const hi = Math.floor(v / 0x1_0000_0000);
          o = out.writeInt32BE(hi, o);
          o = out.writeUInt32BE(v - hi * 0x1_0000_0000, o);
        } else o = out.writeBigInt64BE(BigInt(v as number | bigint), o);
      } else {
        const b = c === 'text' ? texts.get(v as string)! : (v as Uint8Array);
        o = out.writeInt32BE(b.length, o);
        out.set(b, o);
        o += b.length;
      }
    }
  }
  out.writeInt16BE(-1, o);
  return out;
}
