// Internal: the growable big-endian writer the encoder appends to. @merklesync/merkle's ByteWriter is not
// exported from that package's entry point and has no signed/64-bit-bigint writes, so this one is local.
const _I64_MIN = -(1n << 63n);
const _I64_MAX = (1n << 63n) - 1n;

export class _Writer {
  private _buf = new Uint8Array(128);
  private _len = 0;
  private _view = new DataView(this._buf.buffer);

  private _ensure(n: number): void {
    if (this._len + n <= this._buf.length) return;
    let cap = this._buf.length * 2;
    while (cap < this._len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this._buf.subarray(0, this._len));
    this._buf = next;
    this._view = new DataView(next.buffer);
  }
  u8(v: number): this {
    this._ensure(1);
    this._buf[this._len++] = v & 255;
    return this;
  }
  u32(v: number): this {
    this._ensure(4);
    this._view.setUint32(this._len, v >>> 0);
    this._len += 4;
    return this;
  }
  i32(v: number): this {
    this._ensure(4);
    this._view.setInt32(this._len, v | 0);
    this._len += 4;
    return this;
  }
  /** Two's complement int64; the caller has range-checked `v`. */
  i64(v: bigint): this {
    if (v < _I64_MIN || v > _I64_MAX) throw new RangeError('int64 out of range');
    this._ensure(8);
    this._view.setBigInt64(this._len, v);
    this._len += 8;
    return this;
  }
  f32(v: number): this {
    this._ensure(4);
    this._view.setFloat32(this._len, v);
    this._len += 4;
    return this;
  }
  f64(v: number): this {
    this._ensure(8);
    this._view.setFloat64(this._len, v);
    this._len += 8;
    return this;
  }
  bytes(b: Uint8Array): this {
    this._ensure(b.length);
    this._buf.set(b, this._len);
    this._len += b.length;
    return this;
  }
  /** u32 length prefix, then the bytes. */
  lenBytes(b: Uint8Array): this {
    return this.u32(b.length).bytes(b);
  }
  finish(): Uint8Array {
    return this._buf.slice(0, this._len);
  }
}
