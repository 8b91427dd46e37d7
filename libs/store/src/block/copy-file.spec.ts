import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { _latestPerKey, blockCopyFile } from './copy-file.ts';
import { BlockOp, type BlockInput } from './pg-block-store.ts';

const HEADER = '5047434f50590aff0d0a00' + '00000000' + '00000000';
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const len = (n: number): string => n.toString(16).padStart(8, '0');
// The scan key, computed here from its definition: SHA-256 of source, a zero byte and table; its first 8 bytes.
const tableKey = (source: string, table: string): string =>
  createHash('sha256').update(Buffer.concat([Buffer.from(source), Buffer.of(0), Buffer.from(table)])).digest('hex').slice(0, 16);

describe('blockCopyFile', () => {
  it('writes the Postgres binary COPY format: header, 10 length-prefixed fields per row, trailer', () => {
    const key = new Uint8Array(32).fill(0xab);
    const leaf = new Uint8Array(32).fill(0xcd);
    const long = new Uint8Array(70).fill(0xee); // past the ≤ 64-byte copy loop
    const rows: BlockInput[] = [
      { source: 'pé', table: 't', mapKey: key, op: BlockOp.Insert, rowVersion: 5n, leafCommitment: leaf, block: Uint8Array.of(1, 2), logIndex: 7 },
      { source: 'pé', table: 't', mapKey: key, op: BlockOp.Delete, rowVersion: 0x7fff_ffff_ffff_ffffn, leafCommitment: null, block: null, logIndex: Number.MAX_SAFE_INTEGER, streamSeq: 3 },
      { source: 'pg', table: 'u', mapKey: key, op: BlockOp.Snapshot, rowVersion: 0n, leafCommitment: leaf, block: long, logIndex: 5_000_000_000 },
    ];
    const row = (src: string, tbl: string, op: string, ver: string, lc: string, blk: string, seq: string, idx: string): string =>
      '000a' + len(src.length / 2) + src + len(tbl.length / 2) + tbl + len(32) + 'ab'.repeat(32) + '00000002' + op + '00000008' + ver + lc + blk + seq + '00000008' + idx +
      '00000008' + tableKey(Buffer.from(src, 'hex').toString(), Buffer.from(tbl, 'hex').toString());
    const want = (seq: string): string =>
      HEADER +
      // 'pé' is 3 UTF-8 bytes; int8 fields as two 32-bit halves; NULL is length −1
      row('70c3a9', '74', '0001', '0000000000000005', len(32) + 'cd'.repeat(32), '00000002' + '0102', seq, '0000000000000007') +
      row('70c3a9', '74', '0003', '7fffffffffffffff', 'ffffffff', 'ffffffff', '00000008' + '0000000000000003', '001fffffffffffff') +
      row('7067', '75', '0004', '0000000000000000', len(32) + 'cd'.repeat(32), len(70) + 'ee'.repeat(70), seq, '000000012a05f200') +
      'ffff';
    expect(hex(blockCopyFile(rows, 12))).toBe(want('00000008' + '000000000000000c'));
    // The staging table's file: a row without its own stream sequence gets NULL there.
    expect(hex(blockCopyFile(rows, null))).toBe(want('ffffffff'));
    expect(hex(blockCopyFile([], 1))).toBe(HEADER + 'ffff');
  });
});

describe('blockCopyFile row versions', () => {
  it('writes versions on both sides of 2^53 exactly (a number below, a BigInt from there on)', () => {
    const key = new Uint8Array(32);
    for (const v of [0n, 1n, (1n << 32n) - 1n, 1n << 32n, (1n << 53n) - 1n, 1n << 53n, (1n << 53n) + 1n, (1n << 63n) - 1n]) {
      const file = blockCopyFile([{ source: 's', table: 't', mapKey: key, op: BlockOp.Update, rowVersion: v, leafCommitment: null, block: null, logIndex: 0 }], 1);
      // header 19, field count 2, source 4+1, table 4+1, key 4+32, op 4+2, then the version's length and value.
      const at = 19 + 2 + 5 + 5 + 36 + 6;
      expect(file.readInt32BE(at)).toBe(8);
      expect(file.readBigInt64BE(at + 4)).toBe(v);
    }
  });
});

describe('_latestPerKey', () => {
  const block = (table: string, key: Uint8Array, logIndex: number): BlockInput => ({ source: 's', table, mapKey: key, op: BlockOp.Update, rowVersion: 1n, leafCommitment: key, block: key, logIndex });

  it('keeps the highest log index per (source, table, key), in first-appearance order', () => {
    const a = randomBytes(32);
    const b = randomBytes(32);
    const rows = [block('t', a, 4), block('t', b, 1), block('u', a, 2), block('t', a, 9), block('t', b, 0), { ...block('t', a, 5), source: 'r' }];
    expect(_latestPerKey(rows).map((r) => [r.source, r.table, hex(r.mapKey), r.logIndex])).toEqual([
      ['s', 't', hex(a), 9],
      ['s', 't', hex(b), 1],
      ['s', 'u', hex(a), 2],
      ['r', 't', hex(a), 5],
    ]);
  });

  it('keys that share their first 48 bits are still told apart', () => {
    const a = new Uint8Array(32).fill(1);
    const b = Uint8Array.from(a);
    b[31] = 2;
    const rows = [block('t', a, 1), block('t', b, 2), block('t', a, 3), block('t', b, 0)];
    expect(_latestPerKey(rows).map((r) => [r.mapKey[31], r.logIndex])).toEqual([
      [1, 3],
      [2, 2],
    ]);
  });

  it('equals a plain string-keyed selection on random inputs with repeats', () => {
    const keys = Array.from({ length: 40 }, () => randomBytes(32));
    for (let round = 0; round < 50; round++) {
      const rows = Array.from({ length: 200 }, (_, i) => block(['t', 'u'][i % 2]!, keys[Math.floor(Math.random() * keys.length)]!, Math.floor(Math.random() * 1000)));
      const want = new Map<string, BlockInput>();
      for (const r of rows) {
        const k = `${r.table}/${hex(r.mapKey)}`;
        if (!want.has(k) || want.get(k)!.logIndex < r.logIndex) want.set(k, r);
      }
      expect(_latestPerKey(rows)).toEqual([...want.values()]);
    }
  });
});
