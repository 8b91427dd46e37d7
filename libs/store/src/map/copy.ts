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

/** Binary COPY file header: signature, flags (0), header extension length (0). */
const _HEADER = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]);

/**
 * A binary COPY file of rows of two bytea columns.
 * @example binaryCopyOfPairs([[hash, node]])
 */
export function binaryCopyOfPairs(rows: readonly (readonly [Uint8Array, Uint8Array])[]): Buffer {
  let size = _HEADER.length + 2;
  for (const [a, b] of rows) size += 10 + a.length + b.length;
  const out = Buffer.allocUnsafe(size);
  _HEADER.copy(out, 0);
  let o = _HEADER.length;
  for (const [a, b] of rows) {
    o = out.writeInt16BE(2, o);
    o = out.writeInt32BE(a.length, o);
    out.set(a, o);
    o += a.length;
    o = out.writeInt32BE(b.length, o);
    out.set(b, o);
    o += b.length;
  }
  out.writeInt16BE(-1, o);
  return out;
}

/** Column types {@link binaryCopyOfRows} encodes (Postgres binary COPY formats). */
export type CopyColumn = 'text' | 'bytea' | 'int2' | 'int8';
/** A value of a column: string (text), bytes (bytea), number (int2), number or bigint (int8), null. */
export type CopyValue = string | Uint8Array | number | bigint | null;

/**
 * A binary COPY file of rows of the given column types (null → SQL NULL).
 * @example binaryCopyOfRows(['text', 'bytea', 'int8'], [['pg', key, 7n]])
 */
export function binaryCopyOfRows(columns: readonly CopyColumn[], rows: readonly (readonly CopyValue[])[]): Buffer {
  const enc = rows.map((r) => r.map((v, i) => (v === null ? null : columns[i] === 'text' ? Buffer.from(v as string, 'utf8') : v)));
  let size = _HEADER.length + 2;
  for (const r of enc) {
    size += 2;
    r.forEach((v, i) => {
      size += 4 + (v === null ? 0 : columns[i] === 'int2' ? 2 : columns[i] === 'int8' ? 8 : (v as Uint8Array).length);
    });
  }
  const out = Buffer.allocUnsafe(size);
  _HEADER.copy(out, 0);
  let o = _HEADER.length;
  for (const r of enc) {
    o = out.writeInt16BE(columns.length, o);
    r.forEach((v, i) => {
      if (v === null) {
        o = out.writeInt32BE(-1, o);
      } else if (columns[i] === 'int2') {
        o = out.writeInt32BE(2, o);
        o = out.writeInt16BE(v as number, o);
      } else if (columns[i] === 'int8') {
        o = out.writeInt32BE(8, o);
        o = out.writeBigInt64BE(BigInt(v as number | bigint), o);
      } else {
        const b = v as Uint8Array;
        o = out.writeInt32BE(b.length, o);
        out.set(b, o);
        o += b.length;
      }
    });
  }
  out.writeInt16BE(-1, o);
  return out;
}
