import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SourceError, SourceErrorCode } from '../errors.ts';
import { decodePgOutput, PG_EPOCH_OFFSET_MICROS } from './decode.ts';
import { UNCHANGED_TOAST } from './messages.ts';
import { parseWireMessage, standbyStatus } from './wire.ts';

function msg(...parts: (number[] | Buffer | string)[]): Buffer {
  return Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p + '\0') : Buffer.isBuffer(p) ? p : Buffer.from(p))));
}
const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };
const i16 = (n: number) => { const b = Buffer.alloc(2); b.writeInt16BE(n); return b; };
const u64 = (n: bigint) => { const b = Buffer.alloc(8); b.writeBigUInt64BE(n); return b; };

describe('pgoutput decoding', () => {
  it('decodes Begin with the commit LSN and Unix-epoch commit time', () => {
    const m = decodePgOutput(msg([0x42], u64(0x1234n), u64(5n), u32(777)), 0);
    expect(m).toEqual({ tag: 'begin', finalLsn: 0x1234n, commitTime: 5n + PG_EPOCH_OFFSET_MICROS, xid: 777 });
  });

  it('decodes Relation and an Update with old row, text, NULL and unchanged-TOAST values', () => {
    const rel = decodePgOutput(msg([0x52], u32(16384), 'public', 'users', [0x66], i16(2), [1], 'id', u32(23), u32(0xffffffff), [0], 'body', u32(25), u32(0xffffffff)), 0);
    expect(rel).toMatchObject({ tag: 'relation', relationId: 16384, schema: 'public', table: 'users', replicaIdentity: 'f' });
    const tuple = (vals: (string | null)[]) =>
      Buffer.concat([i16(vals.length), ...vals.map((v) => (v === null ? Buffer.from('n') : v === 'u' ? Buffer.from('u') : Buffer.concat([Buffer.from('t'), u32(Buffer.byteLength(v)), Buffer.from(v)])))]);
    const upd = decodePgOutput(msg([0x55], u32(16384), [0x4f], tuple(['1', 'long']), [0x4e], tuple(['1', 'u'])), 0);
    expect(upd).toEqual({ tag: 'update', relationId: 16384, oldKind: 'O', oldTuple: ['1', 'long'], newTuple: ['1', UNCHANGED_TOAST], bytes: 6 });
    const ins = decodePgOutput(msg([0x49], u32(1), [0x4e], tuple(['é', null])), 0);
    expect(ins).toEqual({ tag: 'insert', relationId: 1, newTuple: ['é', null], bytes: 2 });
  });

  it('column text is what toString("utf8") makes of the same bytes, anywhere in the message (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { minLength: 1, maxLength: 6 }), fc.nat(7), (vals, pad) => {
        const body = msg([0x49], u32(1), [0x4e], i16(vals.length), ...vals.map((v) => Buffer.concat([Buffer.from('t'), u32(v.length), Buffer.from(v)])));
        const buf = Buffer.concat([Buffer.alloc(pad, 0x7f), body]);
        const ins = decodePgOutput(buf, pad);
        expect(ins).toEqual({ tag: 'insert', relationId: 1, newTuple: vals.map((v) => Buffer.from(v).toString('utf8')), bytes: vals.reduce((n, v) => n + v.length, 0) });
      }),
      { numRuns: 300 },
    );
  });

  it('turns truncated or unknown messages into PROTOCOL errors', () => {
    for (const bad of [msg([0x42], u64(1n)), msg([0x5a]), msg([0x49], u32(1), [0x4e], i16(1), [0x74], u32(10), [0x61])]) {
      try {
        decodePgOutput(bad, 0);
        throw new Error('accepted');
      } catch (e) {
        expect(e).toBeInstanceOf(SourceError);
        expect((e as SourceError).code).toBe(SourceErrorCode.Protocol);
      }
    }
  });

  it('reads keepalives and writes standby status updates', () => {
    expect(parseWireMessage(msg([0x6b], u64(99n), u64(0n), [1]))).toEqual({ tag: 'keepalive', walEnd: 99n, replyRequested: true });
    const s = standbyStatus(0x10n, 946_684_800_000);
    expect(s.length).toBe(34);
    expect(s[0]).toBe(0x72);
    expect(s.readBigUInt64BE(9)).toBe(0x10n);
    expect(s.readBigInt64BE(25)).toBe(0n);
  });
});
