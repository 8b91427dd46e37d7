// Message framing of the PostgreSQL frontend/backend protocol v3: a startup-phase packet is Int32 length +
// body; every later message is Byte1 type + Int32 length (including itself) + body. The reader never copies a
// message it can slice, and refuses lengths below 4 or above a limit before buffering anything.
import { PgWireError, PgWireErrorCode } from './errors.ts';

/** One framed message. `raw` is the whole message as received (type byte, length, body), for forwarding. */
export interface Frame {
  /** Type byte (e.g. 0x51 'Q'); 0 for an untyped startup-phase packet. */
  readonly type: number;
  readonly body: Buffer;
  readonly raw: Buffer;
}

/** Startup-phase request codes (the protocol-version field of an untyped packet). */
export const StartupCode = { Protocol3: 196608, Cancel: 80877102, Ssl: 80877103, GssEnc: 80877104 } as const;

/**
 * Incremental framer: push chunks, pull complete frames.
 * @example const r = new FrameReader(1 << 26); r.push(chunk); for (let f; (f = r.next(false)); ) handle(f);
 */
export class FrameReader {
  readonly #max: number;
  #chunks: Buffer[] = [];
  #length = 0;

  constructor(maxMessageBytes: number) {
    if (!Number.isSafeInteger(maxMessageBytes) || maxMessageBytes < 8) throw new RangeError('maxMessageBytes must be an integer >= 8');
    this.#max = maxMessageBytes;
  }

  /** Bytes buffered and not yet framed. */
  get buffered(): number {
    return this.#length;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#length += chunk.length;
  }

  /**
   * The next complete frame, or undefined when more bytes are needed.
   * @param untyped true in the startup phase (no type byte).
   * @throws PgWireError(MALFORMED | TOO_LARGE) for a length below 4 or above the limit.
   */
  next(untyped: boolean): Frame | undefined {
    const head = untyped ? 4 : 5;
    if (this.#length < head) return undefined;
    const buf = this.#flat(head);
    const type = untyped ? 0 : buf[0]!;
    const len = buf.readUInt32BE(untyped ? 0 : 1);
    if (len < 4 || (untyped && len < 8)) throw new PgWireError(PgWireErrorCode.Malformed, `message length ${len} is below the minimum`);
    if (len > this.#max) throw new PgWireError(PgWireErrorCode.TooLarge, `message of ${len} bytes exceeds the ${this.#max}-byte limit`);
    const total = untyped ? len : len + 1;
    if (this.#length < total) return undefined;
    const all = this.#flat(total);
    const raw = all.subarray(0, total);
    this.#consume(total);
    return { type, body: raw.subarray(untyped ? 4 : 5), raw };
  }

  /** Makes at least `n` leading bytes contiguous in the first chunk and returns it. */
  #flat(n: number): Buffer {
    const first = this.#chunks[0]!;
    if (first.length >= n) return first;
    const merged = Buffer.concat(this.#chunks, this.#length);
    this.#chunks = [merged];
    return merged;
  }

  #consume(n: number): void {
    const first = this.#chunks[0]!;
    if (first.length === n) this.#chunks.shift();
    else this.#chunks[0] = first.subarray(n);
    this.#length -= n;
  }
}
