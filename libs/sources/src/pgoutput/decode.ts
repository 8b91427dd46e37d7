import { SourceError, SourceErrorCode } from '../errors.ts';
import { type PgOutputMessage, type RelationColumn, type TupleValue, UNCHANGED_TOAST } from './messages.ts';

/** Microseconds between 1970-01-01 and Postgres' epoch 2000-01-01. */
export const PG_EPOCH_OFFSET_MICROS = 946_684_800_000_000n;

// Column values are decoded with Buffer's own utf8Slice (on Buffer.prototype in every Node release, though not in
// its typings): `toString('utf8', start, end)` checks and normalizes its arguments first, ≈ 50 ns of ≈ 200 per
// value, for every column of every row (README "Throughput"). Bounds are checked before each call.
const _utf8 = (Buffer.prototype as unknown as { utf8Slice: (this: Buffer, start: number, end: number) => string }).utf8Slice;

/**
 * A cursor over one message. Bounds are checked on every read so a truncated message becomes a typed
 * PROTOCOL error instead of a RangeError from Buffer.
 */
class _Reader {
  pos: number;
  readonly buf: Buffer;
  constructor(buf: Buffer, start: number) {
    this.buf = buf;
    this.pos = start;
  }
  #need(n: number): void {
    if (this.pos + n > this.buf.length) throw _truncated();
  }
  u8(): number {
    this.#need(1);
    return this.buf[this.pos++]!;
  }
  i16(): number {
    this.#need(2);
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }
  i32(): number {
    this.#need(4);
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  u32(): number {
    this.#need(4);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }
  u64(): bigint {
    this.#need(8);
    const v = this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    return v;
  }
  i64(): bigint {
    this.#need(8);
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return v;
  }
  cstring(): string {
    const end = this.buf.indexOf(0, this.pos);
    if (end < 0) throw _truncated();
    const s = this.buf.toString('utf8', this.pos, end);
    this.pos = end + 1;
    return s;
  }
  /** TupleData; returns the values and the number of text bytes (for batch byte bounds). */
  tuple(): { values: TupleValue[]; bytes: number } {
    const n = this.i16();
    const values: TupleValue[] = new Array<TupleValue>(n);
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      const kind = this.u8();
      if (kind === 0x74 /* t */) {
        const len = this.i32();
        this.#need(len);
        values[i] = _utf8.call(this.buf, this.pos, this.pos + len);
        this.pos += len;
        bytes += len;
      } else if (kind === 0x6e /* n */) {
        values[i] = null;
      } else if (kind === 0x75 /* u */) {
        values[i] = UNCHANGED_TOAST;
      } else {
        // 'b' (binary) only appears when the binary option is requested, which this source never does.
        throw new SourceError(SourceErrorCode.Protocol, `pgoutput: unexpected tuple data kind 0x${kind.toString(16)}`);
      }
    }
    return { values, bytes };
  }
}

function _truncated(): SourceError {
  return new SourceError(SourceErrorCode.Protocol, 'pgoutput: truncated message');
}

/**
 * Decodes one pgoutput message (the payload of an XLogData message).
 * @param buf the CopyData chunk; @param start offset of the pgoutput message in it.
 * @throws SourceError(PROTOCOL) for an unknown tag or a truncated message.
 * @example decodePgOutput(chunk, 25)
 */
export function decodePgOutput(buf: Buffer, start: number): PgOutputMessage {
  const r = new _Reader(buf, start);
  const tag = r.u8();
  switch (tag) {
    case 0x42 /* B */: {
      const finalLsn = r.u64();
      const commitTime = r.i64() + PG_EPOCH_OFFSET_MICROS;
      return { tag: 'begin', finalLsn, commitTime, xid: r.u32() };
    }
    case 0x43 /* C */: {
      const flags = r.u8();
      const commitLsn = r.u64();
      const endLsn = r.u64();
      return { tag: 'commit', flags, commitLsn, endLsn, commitTime: r.i64() + PG_EPOCH_OFFSET_MICROS };
    }
    case 0x4f /* O */:
      return { tag: 'origin', lsn: r.u64(), name: r.cstring() };
    case 0x52 /* R */: {
      const relationId = r.u32();
      const schema = r.cstring();
      const table = r.cstring();
      const replicaIdentity = String.fromCharCode(r.u8());
      const n = r.i16();
      const columns: RelationColumn[] = [];
      for (let i = 0; i < n; i++) {
        const flags = r.u8();
        columns.push({ key: (flags & 1) === 1, name: r.cstring(), typeOid: r.u32(), typeMod: r.i32() });
      }
      return { tag: 'relation', relationId, schema, table, replicaIdentity, columns };
    }
    case 0x59 /* Y */:
      return { tag: 'type', typeOid: r.u32(), schema: r.cstring(), name: r.cstring() };
    case 0x49 /* I */: {
      const relationId = r.u32();
      if (r.u8() !== 0x4e) throw new SourceError(SourceErrorCode.Protocol, 'pgoutput: Insert without N tuple');
      const t = r.tuple();
      return { tag: 'insert', relationId, newTuple: t.values, bytes: t.bytes };
    }
    case 0x55 /* U */: {
      const relationId = r.u32();
      let kind = r.u8();
      let oldKind: 'K' | 'O' | null = null;
      let oldTuple: TupleValue[] | null = null;
      let bytes = 0;
      if (kind === 0x4b || kind === 0x4f) {
        oldKind = kind === 0x4b ? 'K' : 'O';
        const t = r.tuple();
        oldTuple = t.values;
        bytes += t.bytes;
        kind = r.u8();
      }
      if (kind !== 0x4e) throw new SourceError(SourceErrorCode.Protocol, 'pgoutput: Update without N tuple');
      const t = r.tuple();
      return { tag: 'update', relationId, oldKind, oldTuple, newTuple: t.values, bytes: bytes + t.bytes };
    }
    case 0x44 /* D */: {
      const relationId = r.u32();
      const kind = r.u8();
      if (kind !== 0x4b && kind !== 0x4f) throw new SourceError(SourceErrorCode.Protocol, 'pgoutput: Delete without K/O tuple');
      const t = r.tuple();
      return { tag: 'delete', relationId, oldKind: kind === 0x4b ? 'K' : 'O', oldTuple: t.values, bytes: t.bytes };
    }
    case 0x54 /* T */: {
      const n = r.i32();
      const options = r.u8();
      const relationIds: number[] = [];
      for (let i = 0; i < n; i++) relationIds.push(r.u32());
      return { tag: 'truncate', cascade: (options & 1) === 1, restartIdentity: (options & 2) === 2, relationIds };
    }
    case 0x4d /* M */:
      return { tag: 'message' };
    default:
      throw new SourceError(SourceErrorCode.Protocol, `pgoutput: unknown message tag 0x${tag.toString(16)}`);
  }
}
