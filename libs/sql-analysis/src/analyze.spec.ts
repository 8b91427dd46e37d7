import { beforeAll, describe, expect, it } from 'vitest';
import { SqlAnalysisError, analyzeSql, initSqlAnalysis, needsAnalysis, nondeterminismWarnings, renumberParams } from './index.ts';

beforeAll(() => initSqlAnalysis());

describe('analyzeSql', () => {
  it('classifies statement kinds and transaction control', () => {
    const s = analyzeSql("BEGIN; SELECT 1; INSERT INTO t VALUES (1); UPDATE t SET a = 1; DELETE FROM t; CREATE TABLE x (a int); SAVEPOINT s; ROLLBACK TO SAVEPOINT s; RELEASE s; COMMIT");
    expect(s.map((x) => x.kind)).toEqual(['other', 'select', 'insert', 'update', 'delete', 'other', 'other', 'other', 'other', 'other']);
    expect(s.map((x) => x.tx ?? null)).toEqual(['begin', null, null, null, null, null, 'savepoint', 'rollback_to', 'release', 'commit']);
    expect(s[1]!.text).toBe('SELECT 1');
  });

  it('reports tables with schema and aliases, target separately', () => {
    const [u] = analyzeSql('UPDATE public.users AS u SET name = o.n FROM sales.orders o JOIN items ON true WHERE u.id = o.uid');
    expect(u!.target).toEqual({ schema: 'public', name: 'users', alias: 'u', role: 'target' });
    expect(u!.tables).toEqual([
      { schema: 'public', name: 'users', alias: 'u', role: 'target' },
      { schema: 'sales', name: 'orders', alias: 'o', role: 'read' },
      { name: 'items', role: 'read' },
    ]);
    expect(u!.fromText).toBe('sales.orders o JOIN items ON true');
    expect(u!.whereText).toBe('u.id = o.uid');
    expect(u!.setColumns).toEqual(['name']);
  });

  it('does not report CTE names as tables', () => {
    const [s] = analyzeSql('WITH recent AS (SELECT * FROM events) SELECT * FROM recent r JOIN users u ON u.id = r.uid');
    expect(s!.tables.map((t) => t.name).sort()).toEqual(['events', 'users']);
  });

  it('finds non-deterministic functions, including SQL value functions, anywhere in the tree', () => {
    const [s] = analyzeSql("INSERT INTO t (id, at, r, u) VALUES (nextval('s'), now(), (SELECT random()), gen_random_uuid()) RETURNING current_timestamp");
    expect([...s!.nondeterministic].sort()).toEqual(['current_timestamp', 'gen_random_uuid', 'nextval', 'now', 'random']);
    expect(nondeterminismWarnings(s!, 1)).toContain('statement 1: non-deterministic function random()');
    expect(analyzeSql('SELECT abs(-1), lower(x) FROM t')[0]!.nondeterministic).toEqual([]);
    // A user function that happens to be named like a built-in in another schema is not pg_catalog's.
    expect(analyzeSql('SELECT myschema.random()')[0]!.nondeterministic).toEqual([]);
  });

  it('extracts WHERE/USING text at parenthesis depth 0 and stops at RETURNING', () => {
    const [d] = analyzeSql("DELETE FROM t USING u WHERE t.id = u.id AND t.x IN (SELECT 1 WHERE true) RETURNING t.id");
    expect(d!.fromText).toBe('u');
    expect(d!.whereText).toBe('t.id = u.id AND t.x IN (SELECT 1 WHERE true)');
    const [u] = analyzeSql('UPDATE t SET a = (SELECT b FROM y WHERE c = 1), d = extract(year FROM now()) WHERE id = $1');
    expect(u!.fromText).toBeUndefined();
    expect(u!.whereText).toBe('id = $1');
    expect(u!.maxParam).toBe(1);
  });

  it('keeps byte offsets right with non-ASCII text', () => {
    const [a, b] = analyzeSql("UPDATE t SET n = 'héllo wörld' WHERE id = 1; DELETE FROM t WHERE n = 'ü'");
    expect(a!.whereText).toBe('id = 1');
    expect(b!.text).toBe("DELETE FROM t WHERE n = 'ü'");
    expect(b!.whereText).toBe("n = 'ü'");
  });

  it('describes INSERT values: constants, casts, parameters, defaults, expressions', () => {
    const [i] = analyzeSql("INSERT INTO t (id, n, f, b, z, d, e) VALUES (-5, 'x', 1.50, true, NULL, DEFAULT, 1 + 1), ($1, '2'::int, $2::text, false, NULL, DEFAULT, $3) ON CONFLICT (id) DO UPDATE SET n = excluded.n");
    expect(i!.insert!.columns).toEqual(['id', 'n', 'f', 'b', 'z', 'd', 'e']);
    expect(i!.insert!.onConflict).toBe('update');
    expect(i!.insert!.rows![0]).toEqual([
      { kind: 'const', text: '-5' }, { kind: 'const', text: 'x' }, { kind: 'const', text: '1.50' }, { kind: 'const', text: 't' },
      { kind: 'const', text: null }, { kind: 'default' }, { kind: 'expr' },
    ]);
    expect(i!.insert!.rows![1]![0]).toEqual({ kind: 'param', index: 1 });
    expect(i!.insert!.rows![1]![1]).toEqual({ kind: 'const', text: '2' });
    expect(analyzeSql('INSERT INTO t SELECT * FROM u')[0]!.insert!.rows).toBeNull();
    expect(analyzeSql('INSERT INTO t DEFAULT VALUES')[0]!.insert!.defaultValues).toBe(true);
  });

  it('names what the capture cannot follow', () => {
    expect(analyzeSql('MERGE INTO t USING u ON t.id = u.id WHEN MATCHED THEN DELETE')[0]!.captureLimits).toEqual(['MERGE is not captured']);
    expect(analyzeSql('COPY t FROM STDIN')[0]!.captureLimits).toEqual(['COPY FROM is passed through but not captured']);
    expect(analyzeSql('DELETE FROM t WHERE CURRENT OF c')[0]!.captureLimits[0]).toMatch(/CURRENT OF/);
    expect(analyzeSql('SELECT * FROM t FOR UPDATE')[0]!.writes).toBe(true);
  });

  it('rejects what PostgreSQL rejects with a typed error', () => {
    expect(() => analyzeSql('SELEC 1')).toThrow(SqlAnalysisError);
    try {
      analyzeSql('UPDATE SET');
    } catch (e) {
      expect((e as SqlAnalysisError).code).toBe('SYNTAX');
    }
    expect(() => analyzeSql(5 as unknown as string)).toThrow(TypeError);
    expect(analyzeSql('')).toEqual([]);
  });
});

describe('renumberParams', () => {
  it('keeps only referenced parameters, in first-use order, and ignores $n in literals', () => {
    expect(renumberParams(['a = $3', "b = $1 OR c = $3 OR d = '$2'"])).toEqual({ texts: ['a = $1', "b = $2 OR c = $1 OR d = '$2'"], original: [3, 1] });
    expect(renumberParams(['x = 1'])).toEqual({ texts: ['x = 1'], original: [] });
  });
});

describe('needsAnalysis', () => {
  it('lets only single plain reads skip the parser', () => {
    expect(needsAnalysis('SELECT abalance FROM pgbench_accounts WHERE aid = 7;')).toBe(false);
    expect(needsAnalysis('  show search_path')).toBe(false);
    for (const sql of [
      'SELECT random()',
      'select now()',
      'SELECT CURRENT_TIMESTAMP',
      'SELECT * FROM t FOR UPDATE',
      'SELECT 1; DELETE FROM t',
      'WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x',
      'SELECT * INTO new_t FROM t',
      "SELECT nextval('s')",
      'UPDATE t SET a = 1',
      "SELECT 'insert'",
    ]) {
      expect(needsAnalysis(sql), sql).toBe(true);
    }
    // Whatever skips the parser, the parser would have called a warning-free read.
    for (const sql of ['SELECT a, b FROM t WHERE c = 1 ORDER BY a', 'VALUES (1), (2)', 'TABLE t']) {
      expect(needsAnalysis(sql)).toBe(false);
      const [info] = analyzeSql(sql);
      expect(info!.kind === 'select' && !info!.writes && info!.nondeterministic.length === 0).toBe(true);
    }
  });
});
