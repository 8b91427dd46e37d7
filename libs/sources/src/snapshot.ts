import type { PgValue } from '@merklesync/crypto';
import type pg from 'pg';
import type { CapturedTable } from './catalog.ts';
import { qualified, quoteLiteral } from './sql.ts';
import type { RowChange } from './types.ts';
import { typedValue } from './typing.ts';

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
      for (;;) {
        if (opts.stopped()) return;
        const r = await client.query<Record<string, string | null>>({ text: `FETCH ${opts.maxChanges} FROM ms_snapshot`, types: RAW_TEXT });
        if (r.rows.length === 0) break;
        const types = r.fields.map((f) => t.columnTypes.get(f.name) ?? f.dataTypeID);
        let chunk: RowChange[] = [];
        let bytes = 0;
        for (const raw of r.rows) {
          const row: Record<string, PgValue> = {};
          let rowBytes = 0;
          for (let i = 0; i < r.fields.length; i++) {
            const name = r.fields[i]!.name;
            const text = raw[name] ?? null;
            if (text !== null) rowBytes += text.length;
            row[name] = typedValue(types[i]!, text, t.schema, t.table, name);
          }
          if (chunk.length > 0 && bytes + rowBytes > opts.maxBytes) {
            await opts.onChunk(chunk);
            chunk = [];
            bytes = 0;
          }
          chunk.push({ op: 'snapshot', schema: t.schema, table: t.table, primaryKey: t.primaryKey.map((k) => row[k] ?? null), row });
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
