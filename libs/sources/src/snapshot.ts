import type { PgTextRowEncoder, PgType } from '@merklesync/crypto';
import type pg from 'pg';
import type { CapturedTable } from './catalog.ts';
import { _EncodedRowChange, type _RowShape, _encodeTexts, _encoderFor, _typedRow } from './encoded.ts';
import { qualified, quoteLiteral } from './sql.ts';
import type { RowChange } from './types.ts';

/** Every value as Postgres' text output: the same text pgoutput sends, typed by the same `fromPgText`. */
const RAW_TEXT = { getTypeParser: () => (value: string) => value } as unknown as pg.CustomTypesConfig;

export interface SnapshotReadOptions {
  maxChanges: number;
  maxBytes: number;
  /** Called once the exported snapshot is imported: the exporting replication connection may close then. */
  onImported: () => Promise<void>;
  /** Receives each bounded chunk in order; awaiting it is the backpressure. */
  onChunk: (changes: RowChange[]) => Promise<void>;
  /** Checked between chunks so `stop()` ends the read early. */
  stopped: () => boolean;
}

/**
 * Reads every captured table inside one REPEATABLE READ transaction that imports the slot's exported snapshot,
 * so the rows are exactly the state at the slot's consistent point: changes committed before it are in the
 * snapshot, changes after it come from the slot. A server-side cursor keeps memory bounded to one chunk.
 * @throws the driver's error (the caller turns it into SNAPSHOT_FAILED); SourceError(DECODE) for an untypable value.
 */
export async function readSnapshot(client: pg.Client, snapshotName: string, tables: readonly CapturedTable[], opts: SnapshotReadOptions): Promise<void> {
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    await client.query(`SET TRANSACTION SNAPSHOT ${quoteLiteral(snapshotName)}`);
    await opts.onImported();
    for (const t of tables) {
      await client.query(`DECLARE ms_snapshot NO SCROLL CURSOR FOR SELECT * FROM ${qualified(t.schema, t.table)}`);
      // The cursor's column list, and its encoder, from the first FETCH (every FETCH of it has the same fields).
      let shape: _RowShape | undefined;
      let encoder: PgTextRowEncoder | null = null;
      for (;;) {
        if (opts.stopped()) return;
        const r = await client.query<(string | null)[]>({ text: `FETCH ${opts.maxChanges} FROM ms_snapshot`, types: RAW_TEXT, rowMode: 'array' });
        if (r.rows.length === 0) break;
        if (shape === undefined) {
          const types: PgType[] = r.fields.map((f) => t.columnTypes.get(f.name) ?? f.dataTypeID);
          shape = { schema: t.schema, table: t.table, columns: r.fields, types, pk: t.primaryKey.map((k) => r.fields.findIndex((f) => f.name === k)) };
          encoder = _encoderFor(shape);
        }
        let chunk: RowChange[] = [];
        let bytes = 0;
        for (const texts of r.rows) {
          let rowBytes = 0;
          for (const text of texts) if (text !== null) rowBytes += text.length;
          if (chunk.length > 0 && bytes + rowBytes > opts.maxBytes) {
            await opts.onChunk(chunk);
            chunk = [];
            bytes = 0;
          }
          chunk.push(_snapshotChange(shape, t.primaryKey, encoder, texts));
          bytes += rowBytes;
        }
        await opts.onChunk(chunk);
      }
      await client.query('CLOSE ms_snapshot');
    }
    await client.query('COMMIT');
  } finally {
    // After COMMIT this is a no-op warning; after a failure it ends the aborted transaction.
    await client.query('ROLLBACK').catch(() => undefined);
  }
}

/** A snapshot row: encoded now and typed on first read, or typed now (which reports a bad value, naming it). */
function _snapshotChange(shape: _RowShape, keyNames: readonly string[], encoder: PgTextRowEncoder | null, texts: (string | null)[]): RowChange {
  const encoded = _encodeTexts(encoder, texts, true);
  if (encoded !== undefined) return new _EncodedRowChange('snapshot', shape, texts, 'row', encoded);
  const row = _typedRow(shape, texts);
  return { op: 'snapshot', schema: shape.schema, table: shape.table, primaryKey: keyNames.map((k) => row[k] ?? null), row };
}
