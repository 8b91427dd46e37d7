// DebeziumSource against the real Kafka, Kafka Connect, Debezium and Postgres (test/infra/kafka.sh): the rows it
// delivers encode exactly like a plain SELECT * typed by fromPgText (what PgLogicalSource delivers), transactions
// arrive sealed and whole, Kafka offsets move only with acks, and poison records land in the dead-letter topic.
import { encodePrimaryKey, encodeRow, fromPgText, type PgValue } from '@merklesync/crypto';
import { KAFKA, debeziumConnectorConfig, deleteConnector, kafkaAvailable, kafkaRequired, registerConnector } from '@merklesync/testkit';
import { Kafka, logLevel } from 'kafkajs';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DebeziumSource, loadPgCatalog, type ChangeBatch, type RowChange } from '../src/index.ts';
import { BatchReader, PG, createTestDb, uniqueName, waitFor, type TestDb } from './pg-harness.ts';

const available = await kafkaAvailable();
if (!available && kafkaRequired) throw new Error(`Kafka Connect is not reachable at ${KAFKA.connectUrl}: run bash test/infra/kafka.sh start`);
const RAW = { getTypeParser: () => (v: string) => v } as unknown as pg.CustomTypesConfig;

async function selectTyped(db: TestDb, table: string, where: string): Promise<Map<string, Record<string, PgValue>>> {
  const r = await db.client.query<Record<string, string | null>>({ text: `SELECT * FROM ${table} WHERE ${where}`, types: RAW });
  const out = new Map<string, Record<string, PgValue>>();
  for (const row of r.rows) {
    const typed: Record<string, PgValue> = {};
    for (const f of r.fields) typed[f.name] = fromPgText(f.dataTypeID, row[f.name] ?? null);
    out.set(String(row['id']), typed);
  }
  return out;
}

const rows = (bs: ChangeBatch[]): RowChange[] => bs.flatMap((b) => b.changes).filter((c): c is RowChange => c.op !== 'truncate');
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe.skipIf(!available)('DebeziumSource against Kafka, Debezium and Postgres', () => {
  let db: TestDb;
  const prefix = uniqueName('mst');
  const connector = uniqueName('ms_conn');
  let slot: string;
  let source: DebeziumSource;
  let reader: BatchReader;
  const kafka = new Kafka({ brokers: KAFKA.brokers, logLevel: logLevel.NOTHING });
  const groupId = uniqueName('ms_group');
  const tables = ['public.kinds', 'public.pair'];

  beforeAll(async () => {
    db = await createTestDb();
    slot = db.slotName();
    await db.query(`CREATE TABLE kinds (id int4 PRIMARY KEY, s int2, b int8, n numeric(20,6), v numeric, t text, bin bytea, flag bool,
      f4 float4, f8 float8, ts timestamptz, tsl timestamp, d date, tm time, iv interval, u uuid, j jsonb, js json, ia int4[], ta text[],
      vc varchar(10), c char(3))`);
    await db.query('ALTER TABLE kinds REPLICA IDENTITY FULL');
    await db.query('CREATE TABLE pair (a int4, b text, note text, PRIMARY KEY (b, a))');
    await db.query('ALTER TABLE pair REPLICA IDENTITY FULL');
    await db.query(`INSERT INTO kinds (id, t) VALUES (1, 'from the snapshot')`);
    await registerConnector(
      connector,
      debeziumConnectorConfig({ host: PG.host, port: PG.port, user: PG.user, password: '', database: db.database, topicPrefix: prefix, tables, slot, publication: uniqueName('ms_pub') }),
    );
    source = new DebeziumSource({ brokers: KAFKA.brokers, groupId, topicPrefix: prefix, tables, batch: { maxChanges: 50 } }, { warn: (m) => console.warn(m) });
    await source.start();
    reader = new BatchReader(source);
  });

  afterAll(async () => {
    await source?.stop();
    await deleteConnector(connector);
    await db?.dispose();
  });

  it('delivers the snapshot read, typed like SELECT *', async () => {
    const snap = await reader.readUntil((b) => b.kind === 'snapshot', { ack: source, ms: 60_000 });
    const r = rows(snap.filter((b) => b.kind === 'snapshot'));
    expect(r).toHaveLength(1);
    expect(r[0]!.op).toBe('snapshot');
    expect(hex(encodeRow(r[0]!.row!))).toBe(hex(encodeRow((await selectTyped(db, 'kinds', 'id = 1')).get('1')!)));
  });

  it('decodes every supported column type to the bytes pgoutput gives', async () => {
    await db.query(`INSERT INTO kinds VALUES
      (2, -32768, 9223372036854775807, -12345678901234.123456, 1.50, 'héllo', '\\x00ff', true, 1.1, -0.0,
       '2024-02-29 12:34:56.789+05:30', '0044-03-15 10:00:00.5 BC', '2024-02-29', '24:00:00', '1 year 2 mons -3 days 04:05:06.7',
       'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', '{"b": [1.0, 2e2], "a": 12345678901234567890}', '{"z": 1.0, "a": null}',
       '{1,NULL,3}', '{"a b",NULL,"\\"q\\""}', 'vc', 'ab'),
      (3, NULL, NULL, 'NaN', '-0.00', '', '\\x', false, 'NaN', '-Infinity', 'infinity', '2000-01-01', '-infinity', '00:00', '0',
       '00000000-0000-0000-0000-000000000000', '[]', '"s"', '{}', '{}', '', NULL)`);
    const got = rows(await reader.readUntil((b) => b.kind === 'transaction' && b.last, { ack: source, ms: 30_000 }));
    expect(got.map((c) => c.op)).toEqual(['insert', 'insert']);
    const want = await selectTyped(db, 'kinds', 'id IN (2, 3)');
    for (const c of got) {
      const id = String((c.primaryKey[0] as { value: unknown }).value);
      for (const [k, v] of Object.entries(want.get(id)!)) expect(hex(encodeRow({ [k]: c.row![k] ?? null })), `row ${id} column ${k}`).toBe(hex(encodeRow({ [k]: v })));
      expect(hex(encodeRow(c.row!)), `row ${id}`).toBe(hex(encodeRow(want.get(id)!)));
      expect(hex(encodePrimaryKey(c.primaryKey))).toBe(hex(encodePrimaryKey([fromPgText('int4', id)])));
    }
  });

  it('seals a transaction across tables only when every event has arrived, in total order; keys in key order', async () => {
    const c = await db.newClient();
    await c.query('BEGIN');
    await c.query(`INSERT INTO pair SELECT g, 'k' || g, 'n' FROM generate_series(1, 120) g`);
    await c.query(`UPDATE kinds SET t = 'updated' WHERE id = 1`);
    await c.query(`DELETE FROM pair WHERE a <= 10`);
    await c.query('COMMIT');
    const parts = await reader.readUntil((b) => b.kind === 'transaction' && b.last, { ack: source, ms: 30_000 });
    const tx = parts.filter((b) => b.kind === 'transaction');
    // 120 + 1 + 10 changes in parts of 50: 0, 1, 2, one commit position.
    expect(tx.map((b) => b.part)).toEqual([0, 1, 2]);
    expect(new Set(tx.map((b) => b.commitLsn)).size).toBe(1);
    const ch = rows(tx);
    expect(ch).toHaveLength(131);
    expect(ch.slice(0, 120).every((x) => x.op === 'insert' && x.table === 'pair')).toBe(true);
    expect(ch[120]!.op).toBe('update');
    expect(ch.slice(121).every((x) => x.op === 'delete')).toBe(true);
    // pair's key is (b, a): the key's columns in key order, typed.
    expect(hex(encodePrimaryKey(ch[0]!.primaryKey))).toBe(hex(encodePrimaryKey([fromPgText('text', 'k1'), fromPgText('int4', '1')])));
    // A delete is followed by a tombstone in Kafka: skipped, counted.
    await waitFor('tombstones counted', () => Promise.resolve(source.stats.tombstones >= 10 ? true : undefined), 10_000);
  });

  it('commits Kafka offsets only for acknowledged batches', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const committed = async (): Promise<bigint> => {
        const o = await admin.fetchOffsets({ groupId, topics: [`${prefix}.public.kinds`] });
        return BigInt(o[0]!.partitions[0]!.offset);
      };
      const before = await committed();
      await db.query(`UPDATE kinds SET t = 'not acked yet' WHERE id = 1`);
      const b = await reader.next(30_000);
      expect(b.kind).toBe('transaction');
      // Not acknowledged: the group's offset for the table topic has not moved past the record.
      expect(await committed()).toBe(before);
      await source.ack(b);
      await waitFor('offset committed after the ack', async () => ((await committed()) > before ? true : undefined), 10_000);
    } finally {
      await admin.disconnect();
    }
  });

  it('sends a record it cannot decode to the dead-letter topic with the reason, and goes on', async () => {
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: `${prefix}.public.kinds`, messages: [{ key: '{"id": 99}', value: '{"not": "debezium"' }] });
    await producer.disconnect();
    await db.query(`UPDATE kinds SET t = 'after the poison' WHERE id = 1`);
    const b = await reader.next(30_000);
    await source.ack(b);
    expect((rows([b])[0]!.row!['t'] as { value: string }).value).toBe('after the poison');
    expect(source.stats.deadLettered).toBe(1);
    const consumer = kafka.consumer({ groupId: uniqueName('ms_dlq') });
    await consumer.connect();
    await consumer.subscribe({ topic: `${prefix}.merklesync.dlq`, fromBeginning: true });
    const dead = await new Promise<{ code: string; reason: string; value: string }>((resolve) => {
      void consumer.run({
        eachMessage: ({ message }) => {
          resolve({ code: String(message.headers?.['merklesync.dlq.code']), reason: String(message.headers?.['merklesync.dlq.reason']), value: String(message.value) });
          return Promise.resolve();
        },
      });
    });
    await consumer.disconnect();
    expect(dead.code).toBe('MALFORMED');
    expect(dead.reason).toMatch(/not JSON/);
    expect(dead.value).toBe('{"not": "debezium"');
  });

  it('after a stop, a new consumer of the group gets exactly the unacknowledged transactions again, with the same positions', async () => {
    for (let i = 0; i < 4; i++) await db.query(`UPDATE kinds SET t = 'restart ${i}' WHERE id = 1`);
    const got = [await reader.next(30_000), await reader.next(30_000), await reader.next(30_000), await reader.next(30_000)];
    expect(got.map((b) => (rows([b])[0]!.row!['t'] as { value: string }).value)).toEqual(['restart 0', 'restart 1', 'restart 2', 'restart 3']);
    await source.ack(got[1]!); // 0 and 1 acknowledged; 2 and 3 delivered only
    await source.stop();
    source = new DebeziumSource({ brokers: KAFKA.brokers, groupId, topicPrefix: prefix, tables, batch: { maxChanges: 50 } });
    await source.start();
    reader = new BatchReader(source);
    const again = [await reader.next(60_000), await reader.next(30_000)];
    expect(again.map((b) => (rows([b])[0]!.row!['t'] as { value: string }).value)).toEqual(['restart 2', 'restart 3']);
    expect(again.map((b) => [b.commitLsn, b.part])).toEqual(got.slice(2).map((b) => [b.commitLsn, b.part]));
    await source.ack(again[1]!);
  });

  it('reads schemaless records with types from the catalog', async () => {
    const catalog = await loadPgCatalog(db.connection, tables);
    expect(catalog.get('public.pair')!.primaryKey).toEqual(['b', 'a']);
    expect(catalog.get('public.kinds')!.columns.get('n')).toEqual({ pgType: { scalar: 'numeric', array: false }, scale: 6 });
  });
});

describe.skipIf(!available)('DebeziumSource with schemaless JSON records (types from the catalog)', () => {
  let db: TestDb;
  const prefix = uniqueName('msts');
  const connector = uniqueName('ms_conn');
  let source: DebeziumSource;

  beforeAll(async () => {
    db = await createTestDb();
    await db.query(`CREATE TABLE kinds (id int8 PRIMARY KEY, n numeric(20,6), v varchar(8), t text, bin bytea, ts timestamptz, tsl timestamp,
      d date, tm time, iv interval, j json, ia int4[], f4 float4)`);
    await db.query('ALTER TABLE kinds REPLICA IDENTITY FULL');
    const config = debeziumConnectorConfig({ host: PG.host, port: PG.port, user: PG.user, password: '', database: db.database, topicPrefix: prefix, tables: ['public.kinds'], slot: db.slotName(), publication: uniqueName('ms_pub') });
    // The committed connector with only the converters switched to schemaless JSON.
    await registerConnector(connector, { ...config, 'key.converter.schemas.enable': 'false', 'value.converter.schemas.enable': 'false' });
    source = new DebeziumSource(
      { brokers: KAFKA.brokers, groupId: uniqueName('ms_group'), topicPrefix: prefix, tables: ['public.kinds'] },
      { catalog: (tables) => loadPgCatalog(db.connection, tables) },
    );
    await source.start();
  });

  afterAll(async () => {
    await source?.stop();
    await deleteConnector(connector);
    await db?.dispose();
  });

  it('decodes rows without any schema in the record exactly like SELECT *', async () => {
    await db.query(`INSERT INTO kinds VALUES (9007199254740993, -12.5, 'vc', 'x', '\\x00ff', '2024-02-29 12:34:56.789+05:30', '2024-02-29 12:34:56.789',
      '2024-02-29', '04:05:06.789', '1 mon -2 days 00:00:01.5', '{"b": 1, "a": [1.0]}', '{1,NULL}', 1.1)`);
    const reader = new BatchReader(source);
    const b = await reader.readUntil((x) => x.kind === 'transaction', { ack: source, ms: 60_000 });
    const got = rows(b.filter((x) => x.kind === 'transaction'));
    expect(got).toHaveLength(1);
    const want = (await selectTyped(db, 'kinds', 'true')).get('9007199254740993')!;
    for (const [k, v] of Object.entries(want)) expect(hex(encodeRow({ [k]: got[0]!.row![k] ?? null })), k).toBe(hex(encodeRow({ [k]: v })));
    expect(hex(encodePrimaryKey(got[0]!.primaryKey))).toBe(hex(encodePrimaryKey([fromPgText('int8', '9007199254740993')])));
  });
});
