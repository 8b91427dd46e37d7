// Byte buffers reused between writes. The merkle service builds a COPY file of a few MB for every group it stores;
// allocated fresh each time, those buffers live outside the JavaScript heap, and V8 starts a full (mark-compact)
// collection each time such external memory grows by some tens of MB since the last one, however small the heap is.
// Measured on the pipeline: most of the merkle service's major collections were started that way. A file built in a
// reused buffer does not grow external memory. README "Reused write buffers".

/** Capacity is rounded up to this (so a slightly bigger next group reuses the buffer). */
const _GRAIN = 256 * 1024;

/**
 * A few grow-only byte buffers, taken for one write and given back once nothing reads them any more (after a failed
 * write whose data may still be queued, not at all: the collector takes it).
 * @example const f = scratch.take(n); build(f); await copy(f); scratch.give(f)
 */
export class ScratchBuffers {
  private readonly _free: ArrayBuffer[] = [];
  private readonly _maxBuffers: number;
  private readonly _maxBytes: number;

  /**
   * @param maxBuffers free buffers kept at most (default 4).
   * @param maxBytes free bytes kept at most (default 64 MiB): a buffer that would exceed it is left to the collector.
   * @throws RangeError when either is not a non-negative integer.
   */
  constructor(maxBuffers = 4, maxBytes = 64 * 1024 * 1024) {
    if (!Number.isInteger(maxBuffers) || maxBuffers < 0) throw new RangeError(`maxBuffers must be a non-negative integer, got ${maxBuffers}`);
    if (!Number.isInteger(maxBytes) || maxBytes < 0) throw new RangeError(`maxBytes must be a non-negative integer, got ${maxBytes}`);
    this._maxBuffers = maxBuffers;
    this._maxBytes = maxBytes;
  }

  /** Free bytes held. */
  get freeBytes(): number {
    let n = 0;
    for (const b of this._free) n += b.byteLength;
    return n;
  }

  /**
   * A Buffer of exactly `size` bytes (contents undefined): the smallest free buffer that holds it, or a new one.
   * @throws RangeError when `size` is not a non-negative safe integer.
   */
  take(size: number): Buffer {
    if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`size must be a non-negative safe integer, got ${size}`);
    let best = -1;
    for (let i = 0; i < this._free.length; i++) {
      const c = this._free[i]!.byteLength;
      if (c >= size && (best < 0 || c < this._free[best]!.byteLength)) best = i;
    }
    const ab = best >= 0 ? this._free.splice(best, 1)[0]! : new ArrayBuffer(Math.max(_GRAIN, Math.ceil(size / _GRAIN) * _GRAIN));
    return Buffer.from(ab, 0, size);
  }

  /**
   * Gives back a buffer from {@link take}, whose bytes nothing reads any more (a COPY it carried has completed).
   * Anything else (a Buffer not starting at its memory's first byte, a pool slice) is ignored, as is a buffer the
   * limits leave no room for.
   */
  give(buf: Uint8Array): void {
    const ab = buf.buffer;
    if (!(ab instanceof ArrayBuffer) || buf.byteOffset !== 0 || ab.byteLength < _GRAIN || this._free.includes(ab)) return;
    // When full, it replaces the smallest free buffer if bigger (a smaller one is more likely to be outgrown).
    let evict = -1;
    if (this._free.length >= this._maxBuffers) {
      if (this._free.length === 0) return;
      evict = 0;
      for (let i = 1; i < this._free.length; i++) if (this._free[i]!.byteLength < this._free[evict]!.byteLength) evict = i;
      if (this._free[evict]!.byteLength >= ab.byteLength) return;
    }
    if (this.freeBytes - (evict < 0 ? 0 : this._free[evict]!.byteLength) + ab.byteLength > this._maxBytes) return;
    if (evict >= 0) this._free.splice(evict, 1);
    this._free.push(ab);
  }
}

/** The store's write buffers (COPY files of map nodes and blocks), shared by every store of the process. */
export const _writeBuffers = new ScratchBuffers();

/**
 * `_writeBuffers.take`, as one function object for every call: the COPY file writers take their allocator as a
 * parameter, and optimised code that inlined a closure made per call was thrown away at the next call ("wrong call
 * target" deopts of `blockCopyFile` and `MapNodeRows.copyFiles`, each then compiled again).
 */
export const _takeWriteBuffer = (size: number): Buffer => _writeBuffers.take(size);
