import type { MapNodeWithHash } from '@merklesync/merkle';
import pg from 'pg';
import { NODE_BRANCH, NODE_LEAF } from './node-codec.ts';

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

/** Column types {@link binaryCopyOfRows} encodes (Postgres binary COPY formats). */
export type CopyColumn = 'text' | 'bytea' | 'int2' | 'int8';
/** A value of a column: string (text), bytes (bytea), number (int2), number or bigint (int8), null. */
export type CopyValue = string | Uint8Array | number | bigint | null;

/**
 * A binary COPY file of rows of the given column types (null → SQL NULL).
 * @example binaryCopyOfRows(['text', 'bytea', 'int8'], [['pg', key, 7n]])
 */
export function binaryCopyOfRows(columns: readonly CopyColumn[], rows: readonly (readonly CopyValue[])[]): Buffer {
  // Text values repeat (source and table names): each distinct string is encoded once.
  const texts = new Map<string, Buffer>();
  const text = (v: string): Buffer => {
    let b = texts.get(v);
    if (b === undefined) texts.set(v, (b = Buffer.from(v, 'utf8')));
    return b;
  };
  const enc = rows.map((r) => r.map((v, i) => (v === null ? null : columns[i] === 'text' ? text(v as string) : v)));
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

/**
 * A binary COPY file of `map_nodes` rows `(suite int2, hash bytea, node bytea)`, each node in the storage
 * encoding of {@link encodeMapNode} written straight into the file (no per-node arrays), in the order given.
 * @example binaryCopyOfMapNodes(0, sortedNodes)
 */
export function binaryCopyOfMapNodes(suite: number, nodes: readonly MapNodeWithHash[]): Buffer {
  let size = _HEADER.length + 2;
  for (const { node } of nodes) size += 2 + 6 + 36 + 4 + (node.type === 'leaf' ? 33 + node.value.length : 98);
  const out = Buffer.allocUnsafe(size);
  _HEADER.copy(out, 0);
  let o = _HEADER.length;
  for (const { hash, node } of nodes) {
    if (hash.length !== 32) throw new RangeError('map node hash must be 32 bytes');
    o = out.writeInt16BE(3, o);
    o = out.writeInt32BE(2, o);
    o = out.writeInt16BE(suite, o);
    o = out.writeInt32BE(32, o);
    out.set(hash, o);
    o += 32;
    if (node.type === 'leaf') {
      o = out.writeInt32BE(33 + node.value.length, o);
      out[o++] = NODE_LEAF;
      out.set(node.key, o);
      out.set(node.value, o + 32);
      o += 32 + node.value.length;
    } else {
      o = out.writeInt32BE(98, o);
      out[o++] = NODE_BRANCH;
      out[o++] = node.bit;
      out.set(node.left, o);
      out.set(node.right, o + 32);
      out.set(node.minKey, o + 64);
      o += 96;
    }
  }
  out.writeInt16BE(-1, o);
  return out;
}
