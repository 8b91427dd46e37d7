import { encodePrimaryKey, encodeRow, fromPgText, type PgValue } from '@merklesync/crypto';
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChangeBatch, MemorySourceStateStore, PgLogicalSource, type RowChange, encodedRowChange } from '../src/index.ts';
import { BatchReader, createTestDb, type TestDb } from './pg-harness.ts';

const RAW = { getTypeParser: () => (v: string) => v } as unknown as pg.CustomTypesConfig;

/**
 * The reference: the table read with a plain SELECT, every value as text, typed by fromPgText (with the
 * source's documented mapping of enums to text and domains to their base type).
 */
async function selectTyped(db: TestDb, table: string, id: number): Promise<Record<string, PgValue>> {
  const r = await db.client.query<Record<string, string | null>>({ text: `SELECT * FROM ${table} WHERE id = $1`, values: [id], types: RAW });
  const row: Record<string, PgValue> = {};
  const userTypes: Record<string, string> = { m: 'text', p: 'int4' };
  for (const f of r.fields) row[f.name] = fromPgText(userTypes[f.name] ?? f.dataTypeID, r.rows[0]![f.name] ?? null);
  return row;
}

function rowChanges(batches: ChangeBatch[]): RowChange[] {
  return batches.flatMap((b) => b.changes).filter((c): c is RowChange => c.op !== 'truncate');
}

describe('pgoutput decoding against the real Postgres', () => {
  let db: TestDb;
  let source: PgLogicalSource;
  let reader: BatchReader;
  const big = randomBytes(6000).toString('base64'); // incompressible, > 2 kB: stored out of line (TOAST)

  beforeAll(async () => {
    db = await createTestDb();
    await db.query(`CREATE TYPE mood AS ENUM ('sad', 'happy')`);
    await db.query(`CREATE DOMAIN posint AS int4 CHECK (VALUE > 0)`);
    await db.query(`CREATE TABLE kinds (
      id int4 PRIMARY KEY, s int2, b int8, n numeric(20,6), t text, bin bytea, flag bool, f4 float4, f8 float8,
      ts timestamptz, d date, u uuid, j jsonb, ia int4[], ta text[], m mood, p posint, vc varchar(10), big text)`);
    await db.query('ALTER TABLE kinds REPLICA IDENTITY FULL');
    await db.query('CREATE TABLE pair (a int4, b text, note text, PRIMARY KEY (b, a))'); // key order differs from column order
    await db.query('ALTER TABLE pair REPLICA IDENTITY FULL');
    await db.query(`INSERT INTO kinds (id, t, big) VALUES (1, 'from the snapshot', $1)`, [big]);
    source = new PgLogicalSource(
      { connection: db.connection, publication: 'ms_pub', slot: db.slotName(), tables: ['public.kinds', 'pair'] },
      { state: new MemorySourceStateStore() },
    );
    await source.start();
    reader = new BatchReader(source);
  });

  afterAll(async () => {
    await source?.drop({ publication: true });
    await db?.dispose();
  });

  it('delivers the snapshot first, typed exactly like SELECT *', async () => {
    const snap = await reader.readUntil((b) => b.kind === 'snapshot' && b.last, { ack: source });
    const rows = rowChanges(snap);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.op).toBe('snapshot');
    const ref = encodeRow(await selectTyped(db, 'kinds', 1));
    expect(encodedRowChange(rows[0]!)!.row).toEqual(ref); // encoded by the source from the text it fetched
    expect(encodeRow(rows[0]!.row!)).toEqual(ref); // and typed on first read
    expect(snap.at(-1)!.commitLsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
  });

  it('decodes every column type into the same typed values (and encodeRow bytes) as SELECT * via fromPgText', async () => {
    await db.query(`INSERT INTO kinds VALUES
      (2, -32768, 9223372036854775807, -12345678901234.500000, 'héllo "quoted" \\ back', '\\x00ff10', true, 1.1, -0.1,
       '2024-02-29 12:34:56.789+05:30', '2024-02-29', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"b": [1, 2.50, null], "a": "x"}',
       '{1,NULL,3}', '{"a b",NULL,"c,d"}', 'happy', 7, 'ten chars!', 'small'),
      (3, NULL, NULL, 'NaN', '', '\\x', false, 'NaN', '-Infinity', 'infinity', '-infinity', NULL, 'null', '{}', '{}', NULL, NULL, NULL, NULL)`);
    const [b] = await reader.readUntil((x) => x.last, { ack: source });
    const rows = rowChanges([b!]);
    expect(rows.map((r) => r.op)).toEqual(['insert', 'insert']);
    for (const r of rows) {
      // The bytes the source encoded straight from the pgoutput text, before anything reads the typed values.
      const encoded = encodedRowChange(r)!;
      const id = (r.row!['id'] as { value: number }).value;
      const ref = await selectTyped(db, 'kinds', id);
      expect(Buffer.from(encoded.row!)).toEqual(Buffer.from(encodeRow(ref)));
      expect(Buffer.from(encoded.primaryKey)).toEqual(Buffer.from(encodePrimaryKey([ref['id']!])));
      expect(r.row).toEqual(ref);
      expect(Buffer.from(encodeRow(r.row!))).toEqual(Buffer.from(encodeRow(ref)));
      expect(encodePrimaryKey(r.primaryKey)).toEqual(encodePrimaryKey([ref['id']!]));
    }
    expect(b!.xid).toBeTypeOf('number');
    expect(b!.commitTimeMicros).toBeTypeOf('bigint');
    expect(b!.endLsn).not.toBeNull();
  });

  it('keeps unchanged TOASTed values complete (REPLICA IDENTITY FULL), and reports updates and deletes', async () => {
    await db.query(`UPDATE kinds SET t = 'changed' WHERE id = 1`);
    const [u] = await reader.readUntil((x) => x.last, { ack: source });
    const upd = rowChanges([u!])[0]!;
    expect(upd.op).toBe('update');
    expect(upd.unchanged).toBeUndefined();
    expect(encodedRowChange(upd)!.row).toEqual(encodeRow(await selectTyped(db, 'kinds', 1))); // TOASTed value filled in
    expect(upd.row!['big']).toEqual({ type: 'text', value: big });
    expect(encodeRow(upd.row!)).toEqual(encodeRow(await selectTyped(db, 'kinds', 1)));
    expect(upd.oldPrimaryKey).toBeUndefined();

    await db.query(`UPDATE kinds SET id = 20 WHERE id = 3`);
    await db.query(`DELETE FROM kinds WHERE id = 2`);
    const more = rowChanges(await reader.readUntil((x) => x.last && x.changes.some((c) => c.op === 'delete'), { ack: source }));
    const moved = more.find((c) => c.op === 'update')!;
    expect(moved.primaryKey).toEqual([{ type: 'int4', value: 20 }]);
    expect(moved.oldPrimaryKey).toEqual([{ type: 'int4', value: 3 }]);
    expect(encodedRowChange(moved)!.primaryKey).toEqual(encodePrimaryKey([{ type: 'int4', value: 20 }]));
    expect(encodedRowChange(moved)!.row).toEqual(encodeRow(await selectTyped(db, 'kinds', 20)));
    const del = more.find((c) => c.op === 'delete')!;
    expect(encodedRowChange(del)).toEqual({ primaryKey: encodePrimaryKey([{ type: 'int4', value: 2 }]) });
    expect(del.primaryKey).toEqual([{ type: 'int4', value: 2 }]);
    expect(del.row!['t']).toEqual({ type: 'text', value: 'héllo "quoted" \\ back' });
  });

  it('keeps transaction boundaries and primary-key order; reports truncate', async () => {
    const c = await db.newClient();
    await c.query('BEGIN');
    await c.query(`INSERT INTO pair VALUES (1, 'k', 'first')`);
    await c.query(`INSERT INTO kinds (id) VALUES (100)`);
    await c.query(`UPDATE pair SET note = 'second' WHERE a = 1`);
    await c.query('COMMIT');
    const [tx] = await reader.readUntil((x) => x.last, { ack: source });
    expect(tx!.part).toBe(0);
    expect(tx!.changes.map((ch) => `${ch.op}:${ch.table}`)).toEqual(['insert:pair', 'insert:kinds', 'update:pair']);
    const first = tx!.changes[0] as RowChange;
    expect(encodedRowChange(first)!.primaryKey).toEqual(encodePrimaryKey([{ type: 'text', value: 'k' }, { type: 'int4', value: 1 }]));
    expect(first.primaryKey).toEqual([
      { type: 'text', value: 'k' },
      { type: 'int4', value: 1 },
    ]);
    // JSON (logs) carries the typed values, which are accessors and not own properties.
    expect(JSON.parse(JSON.stringify(first))).toMatchObject({ op: 'insert', table: 'pair', primaryKey: [{ type: 'text', value: 'k' }, { type: 'int4', value: 1 }], row: { note: { type: 'text', value: 'first' } } });
    // Assigning the typed row drops the source's bytes: they stood for the row as delivered.
    first.row = { ...first.row!, note: { type: 'text', value: 'edited' } };
    expect(encodedRowChange(first)).toBeUndefined();
    expect(first.row['note']).toEqual({ type: 'text', value: 'edited' });

    await db.query('TRUNCATE pair, kinds');
    const [t] = await reader.readUntil((x) => x.last, { ack: source });
    expect(t!.changes.map((ch) => `${ch.op}:${ch.schema}.${ch.table}`).sort()).toEqual(['truncate:public.kinds', 'truncate:public.pair']);
  });
});
