import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemorySourceStateStore, PgLogicalSource, SourceError, SourceErrorCode } from '../src/index.ts';
import { BatchReader, createTestDb, type TestDb } from './pg-harness.ts';

async function startError(source: PgLogicalSource): Promise<SourceError> {
  try {
    await source.start();
  } catch (e) {
    expect(e).toBeInstanceOf(SourceError);
    return e as SourceError;
  }
  throw new Error('start() succeeded');
}

describe('table rules and configuration', () => {
  let db: TestDb;

  beforeAll(async () => {
    db = await createTestDb();
    await db.query('CREATE TABLE nokey (a int4, b text)');
    await db.query('CREATE TABLE docs (id int4 PRIMARY KEY, body text)');
    await db.query('CREATE TABLE nums (id int4 PRIMARY KEY, n int8)');
  });

  afterAll(async () => {
    await db?.dispose();
  });

  const base = () => ({ connection: db.connection, slot: db.slotName(), publication: 'ms_rules' });

  it('refuses a table without a primary key with NO_PRIMARY_KEY naming it', async () => {
    const e = await startError(new PgLogicalSource({ ...base(), publication: 'p_nokey', tables: ['nokey'] }, { state: new MemorySourceStateStore() }));
    expect(e.code).toBe(SourceErrorCode.NoPrimaryKey);
    expect(e.message).toContain('public.nokey');
    await db.query('DROP PUBLICATION p_nokey');
  });

  it('refuses TOASTable columns without REPLICA IDENTITY FULL in require-full mode, accepts them in mark-unchanged mode', async () => {
    const e = await startError(new PgLogicalSource({ ...base(), publication: 'p_docs', tables: ['docs'] }, { state: new MemorySourceStateStore() }));
    expect(e.code).toBe(SourceErrorCode.ReplicaIdentity);
    expect(e.message).toContain('public.docs');

    const big = 'x'.repeat(10).concat(Array.from({ length: 3000 }, (_, i) => String.fromCharCode(0x4e00 + ((i * 7919) % 20000))).join(''));
    await db.query('ALTER TABLE docs ALTER COLUMN body SET STORAGE EXTERNAL'); // out of line, uncompressed
    await db.query('INSERT INTO docs VALUES (1, $1)', [big]);
    const source = new PgLogicalSource(
      { ...base(), publication: 'p_docs', tables: ['docs'], toast: 'mark-unchanged' },
      { state: new MemorySourceStateStore() },
    );
    try {
      await source.start();
      const reader = new BatchReader(source);
      await reader.readUntil((b) => b.kind === 'snapshot' && b.last, { ack: source });
      await db.query('UPDATE docs SET id = 2 WHERE id = 1');
      const [u] = await reader.readUntil((b) => b.last, { ack: source });
      const c = u!.changes[0]!;
      expect(c.op).toBe('update');
      if (c.op !== 'update') return;
      expect(c.unchanged).toEqual(['body']);
      expect(c.row).toEqual({ id: { type: 'int4', value: 2 } });
      expect(c.oldPrimaryKey).toEqual([{ type: 'int4', value: 1 }]);
    } finally {
      await source.drop({ publication: true });
    }
  });

  it('verifies an existing publication publishes the captured tables', async () => {
    await db.query('CREATE PUBLICATION p_other FOR TABLE docs');
    const e = await startError(new PgLogicalSource({ ...base(), publication: 'p_other', tables: ['nums'] }, { state: new MemorySourceStateStore() }));
    expect(e.code).toBe(SourceErrorCode.PublicationMismatch);
    const missing = await startError(new PgLogicalSource({ ...base(), publication: 'p_other', tables: ['nope'] }, { state: new MemorySourceStateStore() }));
    expect(missing.code).toBe(SourceErrorCode.TableNotFound);
    await db.query('DROP PUBLICATION p_other');
  });

  it('validates configuration with INVALID_CONFIG naming the field', () => {
    const state = new MemorySourceStateStore();
    const bad = (over: object, field: string) => {
      try {
        new PgLogicalSource({ ...base(), tables: ['nums'], ...over }, { state });
      } catch (e) {
        expect((e as SourceError).code).toBe(SourceErrorCode.InvalidConfig);
        expect((e as SourceError).message).toContain(field);
        return;
      }
      throw new Error(`accepted bad ${field}`);
    };
    bad({ slot: 'Bad-Slot' }, 'slot');
    bad({ tables: [] }, 'tables');
    bad({ tables: ['a.b.c'] }, 'tables');
    bad({ batch: { maxChanges: 0 } }, 'batch.maxChanges');
    bad({ toast: 'maybe' }, 'toast');
  });

  it('captures the whole publication when no tables are given, and drop() removes slot and publication', async () => {
    await db.query('CREATE PUBLICATION p_all FOR TABLE nums');
    const cfg = { ...base(), publication: 'p_all' };
    const source = new PgLogicalSource(cfg, { state: new MemorySourceStateStore() });
    await source.start();
    expect([...source.tables.keys()]).toEqual(['public.nums']);
    const reader = new BatchReader(source);
    await reader.readUntil((b) => b.kind === 'snapshot' && b.last, { ack: source });
    await db.query('INSERT INTO nums VALUES (1, 9007199254740993)');
    const [b] = await reader.readUntil((x) => x.last, { ack: source });
    expect(b!.changes[0]).toMatchObject({ op: 'insert', row: { n: { type: 'int8', value: 9007199254740993n } } });
    await source.drop({ publication: true });
    const left = await db.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1 UNION ALL SELECT 1 FROM pg_publication WHERE pubname = $2', [cfg.slot, 'p_all']);
    expect(left.rows).toEqual([]);
  });
});
