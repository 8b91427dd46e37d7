// The capture against the real PostgreSQL: what it reads before and after statements (UPDATE/DELETE by their
// WHERE with bound parameters, INSERT by literal keys or a sequence floor), identifiers that need quoting, the
// commitments (recomputed here independently from SELECT output), and the replay restore round trip.
import { Keyring, LocalKeyProvider, commitMapKey, commitRow, deriveCommitmentKeys, deriveTableSecret, encodePrimaryKey, encodeRow, fromPgText } from '@merklesync/crypto';
import { SparseMerkleMap } from '@merklesync/merkle';
import { analyzeSql, initSqlAnalysis } from '@merklesync/sql-analysis';
import { createTestDb, type TestDb } from '@merklesync/testkit';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  StateHasher,
  TableCatalog,
  TxCapture,
  commitCapture,
  relationText,
  restoreSql,
  sessionSql,
  textParam,
  type SqlParam,
  type SqlRunner,
} from '../src/index.ts';

const RAW = { getTypeParser: () => (v: string) => v };
const runnerOf = (c: pg.ClientBase): SqlRunner => ({
  run: async (sql: string, params: readonly SqlParam[]) =>
    (await c.query<(string | null)[]>({ text: sql, values: params.map((p) => (p.value === null ? null : typeof p.value === 'string' ? p.value : Buffer.from(p.value))), rowMode: 'array', types: RAW })).rows,
});

const ring = Keyring.generate('cap');
const provider = new LocalKeyProvider([ring]);
const settings = { source: 'pg-test', kid: 'cap', commitmentKeyVersion: ring.currentVersion, algorithm: 'hmac-sha256' as const, suite: 'sha256' as const };
let db: TestDb;
let other: TestDb;

beforeAll(async () => {
  await initSqlAnalysis();
  db = await createTestDb({ prefix: 'ms_capture' });
  other = await createTestDb({ prefix: 'ms_capture_r' });
  await db.pool.query(`CREATE TABLE "we""ird" ("sel ect" int PRIMARY KEY, "Val" text, amount numeric(10,2), tags text[], doc jsonb, at timestamptz)`);
  await db.pool.query(`CREATE TABLE items (id bigserial PRIMARY KEY, name text NOT NULL DEFAULT 'x')`);
  await db.pool.query(`INSERT INTO "we""ird" VALUES (1, 'a', 1.50, '{a,NULL}', '{"b":1,"a":[1.0]}', '2024-02-29 12:34:56.789+05:30'), (2, 'b', 2, '{}', null, null), (3, 'c', 3, null, '[]', 'infinity')`);
  await db.pool.query(`INSERT INTO items (name) VALUES ('one'), ('two')`);
});

afterAll(async () => {
  await db?.drop();
  await other?.drop();
});

/** Independent commitments of every row of a table, from node-postgres' text output. */
async function expectedLeaves(table: string, select: string, pk: string): Promise<Map<string, string>> {
  const secret = deriveTableSecret(ring.key(ring.currentVersion)!, settings.source, table);
  const keys = deriveCommitmentKeys(secret, 'hmac-sha256');
  const r = await db.pool.query({ text: select, types: RAW });
  const out = new Map<string, string>();
  for (const row of r.rows as Record<string, string | null>[]) {
    const cols: Record<string, ReturnType<typeof fromPgText>> = {};
    for (const f of r.fields) cols[f.name] = fromPgText(f.dataTypeID, row[f.name] ?? null);
    const mk = commitMapKey(keys, table, encodePrimaryKey([cols[pk]!]));
    out.set(Buffer.from(mk).toString('hex'), Buffer.from(commitRow(keys, encodeRow(cols))).toString('hex'));
  }
  return out;
}

describe('TxCapture', () => {
  it('captures UPDATE/DELETE targets by WHERE with bound parameters, quoting identifiers, and commits like the pipeline', async () => {
    const c = await db.pool.connect();
    try {
      const runner = runnerOf(c);
      const cap = new TxCapture(new TableCatalog());
      await c.query('BEGIN');
      const upd = analyzeSql(`UPDATE "we""ird" AS w SET amount = amount + $1 WHERE w."sel ect" >= $2 AND w."Val" <> 'zzz'`)[0]!;
      await cap.before(runner, upd, [textParam('1'), textParam('2')]);
      await c.query(`UPDATE "we""ird" AS w SET amount = amount + $1 WHERE w."sel ect" >= $2 AND w."Val" <> 'zzz'`, ['1', '2']);
      const del = analyzeSql(`DELETE FROM "we""ird" WHERE "sel ect" = 3`)[0]!;
      await cap.before(runner, del, []);
      await c.query(`DELETE FROM "we""ird" WHERE "sel ect" = 3`);
      await cap.finish(runner);
      const t = cap.tables.get('public.we"ird')!;
      expect([...t.keys.values()]).toEqual([['2'], ['3']]);
      expect(t.pre.get('["2"]')).toEqual(['2', 'b', '2.00', '{}', null, null]);
      expect(t.post.get('["2"]')).toEqual(['2', 'b', '3.00', '{}', null, null]);
      expect(t.post.get('["3"]')).toBeNull();
      expect(cap.warnings).toEqual([]);

      const hasher = new StateHasher(provider, settings);
      const committed = await commitCapture(hasher, cap);
      // Post-state leaves equal an independent computation over the table as the transaction sees it.
      const want = await (async () => {
        const r = await c.query({ text: `SELECT * FROM "we""ird" WHERE "sel ect" IN (2, 3)`, types: RAW });
        const secret = deriveTableSecret(ring.key(ring.currentVersion)!, settings.source, 'public.we"ird');
        const keys = deriveCommitmentKeys(secret, 'hmac-sha256');
        const m = new SparseMerkleMap({ suite: 'sha256' });
        const ops = (r.rows as Record<string, string | null>[]).map((row) => {
          const cols: Record<string, ReturnType<typeof fromPgText>> = {};
          for (const f of r.fields) cols[f.name] = fromPgText(f.dataTypeID, row[f.name] ?? null);
          return { key: commitMapKey(keys, 'public.we"ird', encodePrimaryKey([cols['sel ect']!])), value: commitRow(keys, encodeRow(cols)) };
        });
        return m.update(m.emptyRoot, ops);
      })();
      expect(Buffer.from(committed.tables[0]!.post.root).equals(Buffer.from(want))).toBe(true);
      expect(Buffer.from(committed.preRoot).equals(Buffer.from(committed.postRoot))).toBe(false);
      await c.query('ROLLBACK');
    } finally {
      c.release();
    }
  });

  it('captures inserted keys from literals (canonicalised) and from a sequence floor', async () => {
    const c = await db.pool.connect();
    try {
      const runner = runnerOf(c);
      const cap = new TxCapture(new TableCatalog());
      await c.query('BEGIN');
      for (const sql of [`INSERT INTO items (id, name) VALUES ('0100', 'lit')`, `INSERT INTO items (name) VALUES ('seq1'), ('seq2')`]) {
        await cap.before(runner, analyzeSql(sql)[0]!, []);
        await c.query(sql);
      }
      await cap.finish(runner);
      const t = cap.tables.get('public.items')!;
      expect([...t.post.values()].map((r) => r?.[1]).sort()).toEqual(['lit', 'seq1', 'seq2']);
      expect(t.keys.has('["100"]')).toBe(true);
      expect([...t.pre.values()].every((r) => r === null)).toBe(true);
      expect(t.seqFloor).toEqual({ column: 'id', value: '2' });
      await c.query('ROLLBACK');
    } finally {
      c.release();
    }
  });

  it('warns when it cannot see the keys (no primary key, INSERT … SELECT without a sequence)', async () => {
    await db.pool.query('CREATE TABLE nopk (a int)');
    await db.pool.query('CREATE TABLE textpk (k text PRIMARY KEY)');
    const runner = runnerOf(db.pool as unknown as pg.ClientBase);
    const cap = new TxCapture(new TableCatalog());
    await cap.before(runner, analyzeSql('INSERT INTO nopk VALUES (1)')[0]!, []);
    await cap.before(runner, analyzeSql(`INSERT INTO textpk SELECT 'x'`)[0]!, []);
    expect(cap.incomplete).toBe(true);
    expect(cap.warnings.join('\n')).toMatch(/nopk has no primary key/);
    expect(cap.warnings.join('\n')).toMatch(/not in its text and not from an owned sequence/);
  });
});

describe('restoreSql', () => {
  it('rebuilds captured tables elsewhere so the same capture gives the same root', async () => {
    const src = runnerOf(db.pool as unknown as pg.ClientBase);
    const cap = new TxCapture(new TableCatalog());
    await cap.seed(src, relationText({ schema: 'public', name: 'we"ird' }), [['1'], ['2'], ['3'], ['9']]);
    await cap.seed(src, relationText({ schema: 'public', name: 'items' }), [['1'], ['2']]);
    await cap.finish(src);
    const hasher = new StateHasher(provider, settings);
    const a = await commitCapture(hasher, cap);
    // The same capture's leaves as an independent computation over the whole table.
    const whole = await expectedLeaves('public.items', 'SELECT * FROM items', 'id');
    const items = a.tables.find((t) => t.table === 'public.items')!;
    for (const [k, e] of items.post.entries) expect(whole.get(k)).toBe(Buffer.from(e.leaf!).toString('hex'));

    const c = await other.pool.connect();
    try {
      await c.query('BEGIN');
      for (const t of cap.tables.values()) {
        const doc = { meta: t.meta, sequences: t.sequences, keys: [...t.keys.values()], rows: [...t.post.values()].filter((r) => r !== null), postLeaves: [] };
        for (const q of restoreSql(doc)) await runnerOf(c).run(q.sql, q.params);
      }
      const again = new TxCapture(new TableCatalog());
      for (const t of cap.tables.values()) await again.seed(runnerOf(c), relationText({ schema: t.meta.schema, name: t.meta.rel }), [...t.keys.values()]);
      await again.finish(runnerOf(c));
      const b = await commitCapture(hasher, again);
      expect(Buffer.from(b.postRoot).toString('hex')).toBe(Buffer.from(a.postRoot).toString('hex'));
      // The restored sequence continues where the source's is (rolled-back inserts used values too).
      const last = (await db.pool.query(`SELECT last_value::int AS n FROM items_id_seq`)).rows[0].n as number;
      expect((await c.query(`SELECT nextval('public.items_id_seq')::int AS n`)).rows[0].n).toBe(last + 1);
      await c.query('ROLLBACK');
    } finally {
      c.release();
    }
  });
});

describe('sessionSql', () => {
  it('pins now() only for a timestamp in PostgreSQL output form, and escapes the search_path as a literal', () => {
    const pinned = sessionSql('"$user", public', 5000, '2024-02-29 12:34:56.789+05:30');
    expect(pinned).toContain("CREATE FUNCTION merklesync_pin.now() RETURNS timestamptz LANGUAGE sql STABLE AS $pin$SELECT '2024-02-29 12:34:56.789+05:30'::timestamptz$pin$");
    expect(pinned).toContain(`set_config('search_path', 'merklesync_pin, pg_catalog, "$user", public', true)`);
    const hostile = sessionSql("x'; DROP TABLE t; --", 5000, "2024-01-01 00:00:00+00'; DROP TABLE t; --");
    expect(hostile).not.toContain('merklesync_pin');
    expect(hostile).toContain(`set_config('search_path', 'x''; DROP TABLE t; --', true)`);
  });

  it('really pins now() and transaction_timestamp(), including in DEFAULT expressions, inside one transaction', async () => {
    const c = await other.pool.connect();
    try {
      await c.query(`BEGIN; ${sessionSql('public', 5000, '2001-02-03 04:05:06.789+00')}; CREATE TABLE pinned (id int PRIMARY KEY, at timestamptz DEFAULT now())`);
      await c.query('INSERT INTO pinned (id) VALUES (1)');
      const r = await c.query({ text: 'SELECT now()::text AS a, transaction_timestamp()::text AS b, (SELECT at FROM pinned)::text AS c', types: RAW });
      expect(r.rows[0]).toEqual({ a: '2001-02-03 04:05:06.789+00', b: '2001-02-03 04:05:06.789+00', c: '2001-02-03 04:05:06.789+00' });
      await c.query('ROLLBACK');
    } finally {
      c.release();
    }
  });
});
