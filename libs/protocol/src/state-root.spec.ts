import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { getHashSuite, toHex } from '@merklesync/merkle';
import { checkTableRootProof, proveTableRoot, stateRoot, stateTableName, verifyTableRootProof, type TableState } from './state-root.ts';

const sha = (...parts: Uint8Array[]): Buffer => createHash('sha256').update(Buffer.concat(parts)).digest();
const leaf = (name: string, root: Uint8Array): Buffer => {
  const n = Buffer.from(name, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(n.length);
  return sha(Buffer.from([0x30]), len, n, root);
};

describe('stateRoot', () => {
  const a = new Uint8Array(32).fill(1);
  const b = new Uint8Array(32).fill(2);

  it('is databaseRoot over escaped (source, table) names, independent of input order', () => {
    const want = sha(Buffer.from([0x31]), leaf('pg.public~2Eorders', b), leaf('pg.public~2Eusers', a));
    const suite = getHashSuite('sha256');
    expect(toHex(stateRoot(suite, [{ source: 'pg', table: 'public.users', root: a }, { source: 'pg', table: 'public.orders', root: b }]))).toBe(want.toString('hex'));
    expect(toHex(stateRoot(suite, [{ source: 'pg', table: 'public.orders', root: b }, { source: 'pg', table: 'public.users', root: a }]))).toBe(want.toString('hex'));
  });

  it('never merges two (source, table) pairs into one name', () => {
    expect(stateTableName('a.b', 'c')).not.toBe(stateTableName('a', 'b.c'));
    expect(() => stateRoot(getHashSuite('sha256'), [{ source: 'pg', table: 't', root: a }, { source: 'pg', table: 't', root: b }])).toThrow(RangeError);
  });

  it('the empty state is the empty database root H(0x32)', () => {
    expect(toHex(stateRoot(getHashSuite('sha256'), []))).toBe(sha(Buffer.from([0x32])).toString('hex'));
  });
});

describe('proveTableRoot / checkTableRootProof', () => {
  const suites = [getHashSuite('sha256'), getHashSuite('blake3')];
  const root = (i: number, salt = 0): Uint8Array => new Uint8Array(32).map((_, j) => (i * 31 + j * 7 + salt) & 0xff);
  const tablesOf = (n: number): TableState[] =>
    Array.from({ length: n }, (_, i) => ({ source: i % 3 === 0 ? 'pg main' : 'mongo', table: `t.${i}`, root: root(i) }));

  it('every generated proof verifies against stateRoot, for every table of 1..40 tables, in both suites', () => {
    for (const suite of suites) {
      for (let n = 1; n <= 40; n++) {
        const tables = tablesOf(n);
        const want = stateRoot(suite, tables);
        for (const t of tables) {
          const p = proveTableRoot(suite, tables, t.source, t.table)!;
          expect(toHex(p.stateRoot)).toBe(toHex(want));
          expect(p.tableCount).toBe(n);
          expect(checkTableRootProof(suite, p, { stateRoot: want, source: t.source, table: t.table, tableRoot: t.root })).toEqual({ ok: true });
        }
      }
    }
  });

  it('accepts the protobuf message shape (uint64 as bigint) and reports unknown tables as undefined', () => {
    const suite = suites[0]!;
    const tables = tablesOf(5);
    const p = proveTableRoot(suite, tables, 'mongo', 't.2')!;
    expect(verifyTableRootProof(suite, { ...p, tableIndex: BigInt(p.tableIndex), tableCount: BigInt(p.tableCount) })).toBe(true);
    expect(proveTableRoot(suite, tables, 'pg', 'nope')).toBeUndefined();
    expect(() => proveTableRoot(suite, [...tables, tables[0]!], 'mongo', 't.1')).toThrow(RangeError);
  });

  it('rejects tampered roots, names, indices, counts and paths with typed failures', () => {
    const suite = suites[0]!;
    const tables = tablesOf(13);
    const want = stateRoot(suite, tables);
    const p = proveTableRoot(suite, tables, 'mongo', 't.4')!;
    const flip = (b: Uint8Array, i = 0): Uint8Array => {
      const c = b.slice();
      c[i] = c[i]! ^ 1;
      return c;
    };
    const cases: [string, Parameters<typeof checkTableRootProof>[1], Parameters<typeof checkTableRootProof>[2], string][] = [
      ['table root', { ...p, tableRoot: flip(p.tableRoot) }, { stateRoot: want }, 'PATH_MISMATCH'],
      ['state root in proof', { ...p, stateRoot: flip(p.stateRoot) }, {}, 'PATH_MISMATCH'],
      ['state root vs expected', { ...p, stateRoot: flip(p.stateRoot) }, { stateRoot: want }, 'WRONG_STATE_ROOT'],
      ['name', { ...p, table: 'mongo.t~2E5' }, { stateRoot: want }, 'PATH_MISMATCH'],
      ['name vs expected', p, { source: 'mongo', table: 't.5' }, 'WRONG_TABLE'],
      ['table root vs expected', p, { tableRoot: root(5) }, 'WRONG_TABLE_ROOT'],
      ['index', { ...p, tableIndex: p.tableIndex + 1 }, {}, 'PATH_MISMATCH'],
      ['count', { ...p, tableCount: p.tableCount + 8 }, {}, 'PATH_MISMATCH'],
      ['path dropped', { ...p, path: p.path.slice(1) }, {}, 'PATH_MISMATCH'],
      ['path extended', { ...p, path: [...p.path, p.path[0]!] }, {}, 'PATH_MISMATCH'],
      ['index ≥ count', { ...p, tableIndex: 13 }, {}, 'MALFORMED'],
      ['short hash in path', { ...p, path: [p.path[0]!.subarray(1)] }, {}, 'MALFORMED'],
      ['negative index', { ...p, tableIndex: -1n }, {}, 'MALFORMED'],
      ['huge count', { ...p, tableCount: 1n << 60n }, {}, 'MALFORMED'],
      ['lone surrogate', { ...p, table: '\uD800' }, {}, 'MALFORMED'],
      ['not an object', null as never, {}, 'MALFORMED'],
      ['path not an array', { ...p, path: 'x' as never }, {}, 'MALFORMED'],
    ];
    for (const [name, proof, exp, failure] of cases) {
      const r = checkTableRootProof(suite, proof, exp);
      expect(r.ok, name).toBe(false);
      if (!r.ok) expect(r.failure, name).toBe(failure);
    }
    for (let i = 0; i < p.path.length; i++) {
      for (const bit of [0, 31]) {
        const path = p.path.map((h, j) => (j === i ? flip(h, bit) : h));
        expect(verifyTableRootProof(suite, { ...p, path }, { stateRoot: want })).toBe(false);
      }
    }
  });

  it('never throws on hostile input', () => {
    const suite = suites[0]!;
    const hostile = Object.defineProperty({}, 'table', {
      get() {
        throw new Error('boom');
      },
    });
    expect(checkTableRootProof(suite, hostile as never)).toMatchObject({ ok: false, failure: 'MALFORMED' });
    expect(checkTableRootProof({} as never, proveTableRoot(suite, tablesOf(2), 'mongo', 't.1')!)).toMatchObject({ ok: false, failure: 'MALFORMED' });
  });
});
