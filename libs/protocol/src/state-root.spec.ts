import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { getHashSuite, toHex } from '@merklesync/merkle';
import { stateRoot, stateTableName } from './state-root.ts';

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
