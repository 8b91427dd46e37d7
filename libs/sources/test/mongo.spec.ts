// MongoChangeStreamSource against a MongoDB-wire server with change streams (test/infra/mongo.sh: mongo-java-server,
// since no mongod is installable here). Documents arrive as canonical Extended JSON, updates with the looked-up
// document, the resume token moves only with acks, and a restart neither loses nor repeats an event.
import { encodeMongoDocument, encodeMongoId, encodePrimaryKey } from '@merklesync/crypto';
import { MONGO, mongoAvailable, mongoRequired } from '@merklesync/testkit';
import { Double, Int32, Long, MongoClient, ObjectId } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryResumeTokenStore, MongoChangeStreamSource, MongoResumeTokenStore, type ChangeBatch, type MongoSourceConfig, type RowChange } from '../src/index.ts';
import { BatchReader, uniqueName } from './pg-harness.ts';

const available = await mongoAvailable();
if (!available && mongoRequired) throw new Error(`no MongoDB-wire server at ${MONGO.url}: run bash test/infra/mongo.sh start`);

const rows = (bs: ChangeBatch[]): RowChange[] => bs.flatMap((b) => b.changes).filter((c): c is RowChange => c.op !== 'truncate');

describe.skipIf(!available)('MongoChangeStreamSource', () => {
  let client: MongoClient;
  const database = uniqueName('ms_mongo');
  const stateDb = uniqueName('ms_state');
  const sources: MongoChangeStreamSource[] = [];
  const config = (extra: Partial<MongoSourceConfig> = {}): MongoSourceConfig => ({ url: MONGO.url, database, collections: ['items'], stream: 'items', ...extra });

  beforeAll(async () => {
    client = new MongoClient(MONGO.url);
    await client.connect();
    await client.db(database).collection<{ _id: unknown; [key: string]: unknown }>('items').insertOne({ _id: new ObjectId('65f000000000000000000001'), n: new Int32(1), before: true });
  });

  afterAll(async () => {
    for (const s of sources) await s.stop();
    await client?.db(database).dropDatabase().catch(() => undefined);
    await client?.db(stateDb).dropDatabase().catch(() => undefined);
    await client?.close();
  });

  it('snapshots, then streams inserts, updates (updateLookup), replaces and deletes as canonical Extended JSON', async () => {
    const tokens = new MongoResumeTokenStore(client, stateDb);
    const source = new MongoChangeStreamSource(config(), { tokens });
    sources.push(source);
    await source.start();
    const reader = new BatchReader(source);
    const snap = await reader.readUntil((b) => b.kind === 'snapshot', { ack: source });
    expect(rows(snap)[0]!.document).toBe('{"_id":{"$oid":"65f000000000000000000001"},"n":{"$numberInt":"1"},"before":true}');

    const items = client.db(database).collection<{ _id: unknown; [key: string]: unknown }>('items');
    // One write at a time: updateLookup returns the document as it is when the stream reads the event.
    const got: RowChange[] = [];
    const step = async (write: () => Promise<unknown>): Promise<void> => {
      await write();
      got.push(...rows([await reader.next()]));
      await source.ack(reader.received.at(-1)!);
    };
    await step(() => items.insertOne({ _id: new Int32(7), d: new Double(1), l: Long.fromString('9007199254740993'), s: 'x', nested: { z: 1, a: [new Int32(2)] } }));
    await step(() => items.updateOne({ _id: new Int32(7) }, { $set: { s: 'y' } }));
    await step(() => items.replaceOne({ _id: new Int32(7) }, { _id: new Int32(7), s: 'z' }));
    await step(() => items.deleteOne({ _id: new Int32(7) }));
    expect(got.map((c) => c.op)).toEqual(['insert', 'update', 'update', 'delete']);
    expect(got[0]!.document).toBe('{"_id":{"$numberInt":"7"},"d":{"$numberDouble":"1.0"},"l":{"$numberLong":"9007199254740993"},"s":"x","nested":{"z":{"$numberInt":"1"},"a":[{"$numberInt":"2"}]}}');
    expect(JSON.parse(got[1]!.document!).s).toBe('y');
    expect(got[2]!.document).toBe('{"_id":{"$numberInt":"7"},"s":"z"}');
    expect(got[3]!.row).toBeNull();
    // The key and document encodings ingest commits: _id as the one-element key, the document as kind 'D'.
    expect(Buffer.from(encodePrimaryKey(got[3]!.primaryKey)).toString('hex')).toBe(Buffer.from(encodeMongoId('{"$numberInt":"7"}')).toString('hex'));
    expect(() => encodeMongoDocument(got[0]!.document!)).not.toThrow();
    expect(await tokens.load('items')).not.toBeNull();
  });

  it('resumes after the last acknowledged event: nothing lost, nothing repeated', async () => {
    const tokens = new MemoryResumeTokenStore();
    const items = client.db(database).collection<{ _id: unknown; [key: string]: unknown }>('items');
    const first = new MongoChangeStreamSource(config({ snapshot: false }), { tokens });
    sources.push(first);
    await first.start();
    const reader = new BatchReader(first);
    for (let i = 100; i < 110; i++) await items.insertOne({ _id: new Int32(i) });
    const seen = await reader.readUntil((b) => rows([b]).some((c) => c.primaryKey[0]!.type === 'ejson' && (c.primaryKey[0] as { text: string }).text === '{"$numberInt":"109"}'));
    expect(seen).toHaveLength(10);
    await first.ack(seen[3]!); // 100..103 acknowledged, 104..109 delivered but not
    await first.stop();
    for (let i = 110; i < 113; i++) await items.insertOne({ _id: new Int32(i) });

    const second = new MongoChangeStreamSource(config({ snapshot: false }), { tokens });
    sources.push(second);
    await second.start();
    const again = await new BatchReader(second).readUntil((b) => rows([b]).some((c) => (c.primaryKey[0] as { text: string }).text === '{"$numberInt":"112"}'));
    const ids = rows(again).map((c) => (c.primaryKey[0] as { text: string }).text);
    expect(ids).toEqual([104, 105, 106, 107, 108, 109, 110, 111, 112].map((i) => `{"$numberInt":"${i}"}`));
    // Redelivered events keep their ids (commit position and source position), so the bus drops the copies.
    expect(again.slice(0, 6).map((b) => b.sourcePosition)).toEqual(seen.slice(4).map((b) => b.sourcePosition));
    await second.stop();
  });

  it('refuses a document whose field order JavaScript cannot keep, naming the field', async () => {
    const source = new MongoChangeStreamSource(config({ snapshot: false, collections: ['odd'] }), { tokens: new MemoryResumeTokenStore() });
    sources.push(source);
    await source.start();
    await client.db(database).collection<{ _id: unknown; [key: string]: unknown }>('odd').insertOne({ _id: 1, b: 1, '2': 'x' });
    const it = source.batches()[Symbol.asyncIterator]();
    await expect(it.next()).rejects.toMatchObject({ code: 'DECODE', message: expect.stringMatching(/field 2: integer-like/) });
  });
});
