import { describe, expect, it } from 'vitest';
import { BackendType, FrameReader, PgWireError, bindMessage, errorResponse, parseMessage, readBind, readFields, readParse, readStartup } from './index.ts';

function startup(params: Record<string, string>): Buffer {
  const body = Buffer.concat([...Object.entries(params).flatMap(([k, v]) => [Buffer.from(`${k}\0${v}\0`)]), Buffer.from([0])]);
  const b = Buffer.alloc(8 + body.length);
  b.writeUInt32BE(8 + body.length, 0);
  b.writeUInt32BE(196608, 4);
  body.copy(b, 8);
  return b;
}

describe('FrameReader', () => {
  it('frames messages split across chunks at every byte boundary', () => {
    const msgs = Buffer.concat([parseMessage('s1', 'SELECT $1', [23]), bindMessage('', 's1', [0], [Buffer.from('42')], [0]), Buffer.from([0x53, 0, 0, 0, 4])]);
    for (let cut = 0; cut <= msgs.length; cut++) {
      const r = new FrameReader(1 << 20);
      r.push(msgs.subarray(0, cut));
      const got: number[] = [];
      for (let f; (f = r.next(false)); ) got.push(f.type);
      r.push(msgs.subarray(cut));
      for (let f; (f = r.next(false)); ) got.push(f.type);
      expect(got).toEqual([0x50, 0x42, 0x53]);
      expect(r.buffered).toBe(0);
    }
  });

  it('reads a startup packet untyped', () => {
    const r = new FrameReader(1 << 20);
    r.push(startup({ user: 'postgres', database: 'db' }));
    const f = r.next(true)!;
    expect(readStartup(f.body).params.get('database')).toBe('db');
  });

  it('refuses lengths below 4 and above the limit before buffering', () => {
    const r = new FrameReader(1024);
    r.push(Buffer.from([0x51, 0, 0, 0, 3]));
    expect(() => r.next(false)).toThrow(PgWireError);
    const big = new FrameReader(1024);
    big.push(Buffer.from([0x51, 0x7f, 0xff, 0xff, 0xff]));
    expect(() => big.next(false)).toThrow(/exceeds/);
  });
});

describe('message readers', () => {
  it('round-trips Parse and Bind', () => {
    expect(readParse(parseMessage('n', 'SELECT 1', [23, 25]).subarray(5))).toEqual({ name: 'n', sql: 'SELECT 1', paramTypes: [23, 25] });
    const b = readBind(bindMessage('p', 's', [1], [Buffer.from([1, 2]), null], [0]).subarray(5));
    expect(b.params).toEqual([Buffer.from([1, 2]), null]);
    expect(b.portal).toBe('p');
  });

  it('rejects truncated and inconsistent bodies with MALFORMED', () => {
    const good = bindMessage('p', 's', [0, 0], [Buffer.from('1'), Buffer.from('2')], []).subarray(5);
    for (let n = 0; n < good.length; n++) {
      expect(() => readBind(good.subarray(0, n))).toThrow(PgWireError);
    }
    expect(() => readParse(Buffer.from('no terminator'))).toThrow(/terminator/);
    expect(() => readStartup(Buffer.from([0, 3, 0, 0, 0x75, 0x73, 0x65, 0x72]))).toThrow(PgWireError);
  });

  it('builds ErrorResponse fields', () => {
    const e = errorResponse('08P01', 'bad');
    expect(e[0]).toBe(BackendType.ErrorResponse);
    const f = readFields(e.subarray(5));
    expect(f.get('C')).toBe('08P01');
    expect(f.get('M')).toBe('bad');
  });
});
