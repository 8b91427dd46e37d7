import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS, StoreError, StoreErrorCode, migrate, storeConfig } from '../src/index.ts';
import { createTestDb, type TestDb } from '@merklesync/testkit';

let db: TestDb;
beforeAll(async () => {
  db = await createTestDb();
});
afterAll(async () => {
  await db?.drop();
});

describe('migrate', () => {
  it('creates the schema once and is idempotent', async () => {
    const config = storeConfig({ schema: 'ms_a' });
    expect(await migrate(db.pool, config)).toEqual({ applied: [1, 2], version: 2 });
    expect(await migrate(db.pool, config)).toEqual({ applied: [], version: 2 });
    const { rows } = await db.pool.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'ms_a' ORDER BY 1`);
    expect(rows.map((r) => r.table_name)).toEqual(['applied_sequences', 'blocks', 'checkpoint_tables', 'checkpoints', 'log_nodes', 'logs', 'map_nodes', 'schema_migrations', 'table_roots']);
  });

  it('two runners starting together apply each migration exactly once', async () => {
    const config = storeConfig({ schema: 'ms_race' });
    const [p1, p2, p3] = [db.newPool(), db.newPool(), db.newPool()];
    const results = await Promise.all([migrate(p1, config), migrate(p2, config), migrate(p3, config)]);
    expect(results.map((r) => r.applied.length).sort()).toEqual([0, 0, 2]);
    const { rows } = await db.pool.query('SELECT version FROM ms_race.schema_migrations ORDER BY version');
    expect(rows).toEqual([{ version: 1 }, { version: 2 }]);
  });

  it('refuses a database with a migration newer than the code, and an edited migration', async () => {
    const config = storeConfig({ schema: 'ms_new' });
    await migrate(db.pool, config);
    await db.pool.query(`INSERT INTO ms_new.schema_migrations (version, name, checksum) VALUES (99, 'future', 'x')`);
    const e = await migrate(db.pool, config).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(StoreError);
    expect((e as StoreError).code).toBe(StoreErrorCode.SchemaTooNew);

    const config2 = storeConfig({ schema: 'ms_edit' });
    await migrate(db.pool, config2);
    const edited = [{ ...MIGRATIONS[0]!, sql: MIGRATIONS[0]!.sql + '\n-- edited' }];
    await expect(migrate(db.pool, config2, edited)).rejects.toMatchObject({ code: StoreErrorCode.MigrationChanged });
  });

  it('a failing migration leaves nothing behind', async () => {
    const config = storeConfig({ schema: 'ms_fail' });
    const bad = [...MIGRATIONS, { version: 99, name: 'broken', sql: 'CREATE TABLE x (a int); SELECT 1/0;' }];
    await expect(migrate(db.pool, config, bad)).rejects.toMatchObject({ code: StoreErrorCode.Database });
    const { rows } = await db.pool.query(`SELECT 1 FROM information_schema.schemata WHERE schema_name = 'ms_fail'`);
    expect(rows).toEqual([]);
  });

  it('002 upgrades a schema at version 1 with checkpoints already stored (their table roots unrecorded)', async () => {
    const config = storeConfig({ schema: 'ms_up' });
    await migrate(db.pool, config, MIGRATIONS.slice(0, 1));
    await db.pool.query(
      `INSERT INTO ms_up.checkpoints (log_id, seq, log_size, log_root, state_root, note, note_hash) VALUES ('global', 1, 1, $1, $1, 'n', $1)`,
      [Buffer.alloc(32)],
    );
    expect(await migrate(db.pool, config)).toEqual({ applied: [2], version: 2 });
    const { rows } = await db.pool.query('SELECT table_count FROM ms_up.checkpoints');
    expect(rows).toEqual([{ table_count: null }]);
  });

  it('validates the schema name', () => {
    expect(() => storeConfig({ schema: 'Bad"; DROP' })).toThrow(StoreError);
    expect(storeConfig().schema).toBe('merklesync');
  });
});
