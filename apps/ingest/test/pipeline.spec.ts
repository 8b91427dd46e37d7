// The ingest service end to end on the real Postgres and JetStream: snapshot then streaming, no plaintext on the
// bus, and everything published decrypts and re-commits to exactly what the database holds.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredMsg } from '@nats-io/jetstream';
import {
  Envelope,
  KeyDeriver,
  commitMapKey,
  commitRow,
  deriveCommitmentKeys,
  encodeRow,
  fromPgText,
  encodePrimaryKey,
  type CommitmentKeys,
  type PgValue,
} from '@merklesync/crypto';
import { RowOperation, changesSubject, decodeEvent, type ChangeBatch } from '@merklesync/protocol';
import type { IngestPipeline } from '../src/ingest/ingest-pipeline.service.ts';
import { createHarness, hex, waitFor, type IngestHarness } from './support/harness.ts';

let h: IngestHarness;
let pipeline: IngestPipeline;
let canary: string;
let raw: StoredMsg[];
let batches: ChangeBatch[];
const TABLES = ['public.typed', 'public.pairs'] as const;

const int8 = (n: number): PgValue => fromPgText('int8', String(n));
const pairKey = (k: string, n: number): PgValue[] => [fromPgText('text', k), fromPgText('int4', String(n))];

beforeAll(async () => {
  h = await createHarness();
  canary = `CANARY-${h.id}-zq`;
  await h.db.query(`
    CREATE TABLE typed (id int8 PRIMARY KEY, t text, j jsonb, b bytea, arr text[], n numeric(12,3), ts timestamptz, u uuid,
                        f float8, ok bool, d date, iv interval, vc varchar(64), i2 int2, tm time);
    ALTER TABLE typed REPLICA IDENTITY FULL;
    CREATE TABLE pairs (k text, n int4, note text, PRIMARY KEY (k, n));
    ALTER TABLE pairs REPLICA IDENTITY FULL;`);
  const row = (id: number, suffix = ''): Promise<unknown> =>
    h.db.query(
      `INSERT INTO typed VALUES ($1, $2, jsonb_build_object('c', $2::text, 'n', 1.50), convert_to($2, 'UTF8'), ARRAY[$2, NULL, 'x'], 12.345,
         '2024-02-29 12:34:56.789+05:30', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', -0.5, true, '2024-02-29', '1 mon 2 days 03:04:05', $2, 7, '04:05:06')`,
      [id, canary + suffix],
    );
  // Rows present before the service starts: they must arrive as the snapshot.
  for (const id of [1, 2, 3]) await row(id, `-${id}`);
  await h.db.query('INSERT INTO pairs VALUES ($1, 1, $1), ($2, 2, $1)', [canary, 'plain']);

  const config = h.config({ INGEST_TABLES: TABLES.join(','), INGEST_BATCH_MAX_CHANGES: '5' });
  ({ pipeline } = await h.startApp(config));
  await waitFor('snapshot acknowledged', () => pipeline.stats.changesAcked >= 5);

  // A: two tables in one transaction. B: update, delete, primary-key change. C: 12 rows → 3 source parts of ≤ 5.
  await h.db.query('BEGIN');
  await row(10);
  await h.db.query('INSERT INTO pairs VALUES ($1, 2, $1)', [canary]);
  await h.db.query('COMMIT');
  await h.db.query('BEGIN');
  await h.db.query(`UPDATE typed SET t = t || '-u', j = '{"b": [1.0, 2e2], "a": "é"}' WHERE id = 1`);
  await h.db.query('DELETE FROM typed WHERE id = 2');
  await h.db.query(`UPDATE pairs SET n = 3 WHERE k = 'plain'`);
  await h.db.query('COMMIT');
  await h.db.query(
    `INSERT INTO typed (id, t, b, arr) SELECT g, $1 || g, convert_to($1, 'UTF8'), ARRAY[$1] FROM generate_series(100, 111) g`,
    [canary],
  );
  // D: a truncate, then a new row in the emptied table, in one transaction.
  await h.db.query('BEGIN');
  await h.db.query('TRUNCATE pairs');
  await h.db.query('INSERT INTO pairs VALUES ($1, 7, $1)', [canary]);
  await h.db.query('COMMIT');
  await waitFor('all changes acknowledged', () => pipeline.stats.changesAcked >= 5 + 2 + 3 + 12 + 2);
  raw = await h.readStream();
  batches = raw.map((m) => decodeEvent('change-batch', m.data));
}, 60_000);

afterAll(async () => {
  await h?.dispose();
});

describe('ingest: no plaintext on the bus', () => {
  it('no message (payload, headers, subject) contains the canary as UTF-8 or hex', () => {
    const utf8 = Buffer.from(canary, 'utf8');
    const hexText = Buffer.from(utf8.toString('hex'), 'latin1');
    const hexUpper = Buffer.from(utf8.toString('hex').toUpperCase(), 'latin1');
    expect(raw.length).toBeGreaterThan(0);
    for (const m of raw) {
      const data = Buffer.from(m.data);
      for (const needle of [utf8, hexText, hexUpper, Buffer.from(h.id + '-zq')]) expect(data.includes(needle), `message ${m.seq}`).toBe(false);
      expect(m.subject.includes(canary)).toBe(false);
      for (const k of m.header?.keys() ?? []) for (const v of m.header.values(k)) expect(v.includes(canary) || v.includes(h.id + '-zq'), `header ${k}`).toBe(false);
    }
  });

  it('every block decrypts with the key file and its binding, re-commits to its leaf, and map keys are commitMapKey', async () => {
    const deriver = new KeyDeriver(h.keys);
    const env = new Envelope({ provider: h.keys, kid: h.kid });
    const ck = new Map<string, CommitmentKeys>();
    for (const t of TABLES) ck.set(t, deriveCommitmentKeys(await deriver.tableSecret({ kid: h.kid, version: 1, source: h.source, table: t }), 'hmac-sha256'));
    // Every primary key the test ever wrote, to find the key behind each (keyed, opaque) map key.
    const pks = new Map<string, Uint8Array>();
    const addPk = (table: string, values: PgValue[]): void => {
      const pk = encodePrimaryKey(values);
      pks.set(`${table}/${hex(commitMapKey(ck.get(table)!, table, pk))}`, pk);
    };
    for (const id of [1, 2, 3, 10, ...Array.from({ length: 12 }, (_, i) => 100 + i)]) addPk('public.typed', [int8(id)]);
    for (const [k, n] of [[canary, 1], ['plain', 2], [canary, 2], ['plain', 3], [canary, 7]] as const) addPk('public.pairs', pairKey(k, n));

    const state = new Map<string, Map<string, Uint8Array>>(TABLES.map((t) => [t, new Map()]));
    for (const [i, b] of batches.entries()) {
      expect(raw[i]!.subject).toBe(`${h.prefix}.changes.${changesSubject(h.source, b.table).split('.').slice(2).join('.')}`);
      for (const e of b.events) {
        const block = e.block!;
        if (block.op === RowOperation.TRUNCATE) {
          // Names the table only: everything the table held so far goes.
          expect(block.mapKey.length + block.block.length + block.leafCommitment.length).toBe(0);
          state.get(b.table)!.clear();
          continue;
        }
        const mk = hex(block.mapKey);
        const pk = pks.get(`${b.table}/${mk}`);
        expect(pk, `map key ${mk} of ${b.table} is commitMapKey of a known primary key`).toBeDefined();
        if (block.op === RowOperation.DELETE) {
          expect(block.block.length + block.leafCommitment.length).toBe(0);
          state.get(b.table)!.delete(mk);
          continue;
        }
        const plain = await env.decrypt(block.block, { source: h.source, table: b.table, primaryKey: pk!, rowVersion: block.rowVersion });
        expect(hex(commitRow(ck.get(b.table)!, plain))).toBe(hex(block.leafCommitment));
        // The binding holds: the same block under another row version does not open.
        if (i === 0) await expect(env.decrypt(block.block, { source: h.source, table: b.table, primaryKey: pk!, rowVersion: block.rowVersion + 1n })).rejects.toThrow();
        state.get(b.table)!.set(mk, plain);
      }
    }

    // Replaying the stream gives exactly the database's rows, encoded as `SELECT *` text values type them.
    for (const table of TABLES) {
      const r = await h.db.query({ text: `SELECT * FROM ${table}`, types: { getTypeParser: () => (v: string) => v } });
      const expected = new Map<string, string>();
      for (const row of r.rows as Record<string, string | null>[]) {
        const typed: Record<string, PgValue> = {};
        for (const f of r.fields) typed[f.name] = fromPgText(f.dataTypeID, row[f.name] ?? null);
        const pk = table === 'public.typed' ? [typed['id']!] : [typed['k']!, typed['n']!];
        expected.set(hex(commitMapKey(ck.get(table)!, table, encodePrimaryKey(pk))), hex(encodeRow(typed)));
      }
      const got = new Map([...state.get(table)!].map(([k, v]) => [k, hex(v)]));
      expect(got).toEqual(expected);
    }
  });
});

describe('ingest: snapshot, then transactions, each change exactly once', () => {
  it('rows present at start arrive as snapshot events at the consistent point; later ones as transactions', () => {
    const snap = batches.filter((b) => b.transactionId.startsWith('snapshot@'));
    const events = snap.flatMap((b) => b.events);
    expect(events).toHaveLength(5);
    expect(events.every((e) => e.block!.op === RowOperation.SNAPSHOT)).toBe(true);
    const point = snap[0]!.position!.position.value as bigint;
    expect(events.every((e) => e.block!.rowVersion === point)).toBe(true);
    const tx = batches.filter((b) => !b.transactionId.startsWith('snapshot@'));
    expect(tx.every((b) => (b.position!.position.value as bigint) > point)).toBe(true);
    expect(tx.every((b) => b.events.every((e) => e.block!.rowVersion === b.position!.position.value))).toBe(true);
    const ops = tx.flatMap((b) => b.events.map((e) => e.block!.op));
    expect(ops.filter((o) => o === RowOperation.INSERT)).toHaveLength(2 + 12 + 1);
    expect(ops.filter((o) => o === RowOperation.TRUNCATE)).toHaveLength(1);
    expect(ops.filter((o) => o === RowOperation.UPDATE)).toHaveLength(2);
    expect(ops.filter((o) => o === RowOperation.DELETE)).toHaveLength(2); // row 2, and pairs' old key ('plain', 2)
  });

  it('no change is published twice; Nats-Msg-Ids are unique and derived from the source position', () => {
    const keys = batches.flatMap((b) => b.events.map((e) => `${b.table}/${hex(e.block!.mapKey)}/${e.block!.rowVersion}/${e.block!.op}/${e.changeIndex}`));
    expect(new Set(keys).size).toBe(keys.length);
    const ids = raw.map((m) => m.header?.get('Nats-Msg-Id') ?? '');
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(new RegExp(`^${h.source}:(snapshot|transaction):[0-9A-F]+/[0-9A-F]+:\\d+:public\\.(typed|pairs)$`));
    expect(pipeline.stats.duplicates).toBe(0);
    expect(pipeline.stats.messagesPublished).toBe(raw.length);
  });

  it('numbers the messages of a transaction across tables and parts', () => {
    const byTx = new Map<string, ChangeBatch[]>();
    for (const b of batches) byTx.set(b.transactionId, [...(byTx.get(b.transactionId) ?? []), b]);
    for (const [txid, parts] of byTx) {
      expect(parts.map((p) => p.partIndex), txid).toEqual(parts.map((_, i) => i));
      const last = parts[parts.length - 1]!;
      expect(last.partCountPending).toBe(false);
      expect(last.partCount).toBe(parts.length);
      for (const p of parts) expect(p.partCountPending ? p.partCount === 0 : p.partCount === parts.length).toBe(true);
      // change_index runs over the whole transaction, in source order.
      const idx = parts.flatMap((p) => p.events.map((e) => e.changeIndex));
      expect([...idx].sort((a, b) => a - b)).toEqual(idx.map((_, i) => i));
    }
    const multiTable = [...byTx.values()].find((ps) => new Set(ps.map((p) => p.table)).size === 2 && !ps[0]!.transactionId.startsWith('snapshot'));
    expect(multiTable).toBeDefined();
    // The 12-row insert came in 3 source parts (5, 5, 2): the first two with the count still pending.
    const big = [...byTx.values()].find((ps) => ps.reduce((n, p) => n + p.events.length, 0) === 12)!;
    expect(big.map((p) => [p.events.length, p.partCountPending, p.partCount])).toEqual([
      [5, true, 0],
      [5, true, 0],
      [2, false, 3],
    ]);
  });
});
