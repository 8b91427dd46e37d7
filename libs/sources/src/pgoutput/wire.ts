/**
 * Streaming replication protocol messages carried in CopyData (PostgreSQL docs, "Streaming Replication
 * Protocol"): XLogData 'w' and Primary keepalive 'k' from the server, Standby status update 'r' to it.
 */
import { SourceError, SourceErrorCode } from '../errors.ts';
import { PG_EPOCH_OFFSET_MICROS } from './decode.ts';

/** Offset of the pgoutput payload inside an XLogData message: 'w' + 3 × Int64. */
export const XLOGDATA_HEADER = 25;

export type WireMessage =
  | { tag: 'xlogdata'; walStart: bigint; walEnd: bigint }
  | { tag: 'keepalive'; walEnd: bigint; replyRequested: boolean };

/**
 * Reads the header of one CopyData chunk from a walsender.
 * @throws SourceError(PROTOCOL) for an unknown or truncated message.
 * @example parseWireMessage(chunk) // { tag: 'xlogdata', walStart, walEnd }
 */
export function parseWireMessage(chunk: Buffer): WireMessage {
  const tag = chunk[0];
  if (tag === 0x77 && chunk.length >= XLOGDATA_HEADER) {
    return { tag: 'xlogdata', walStart: chunk.readBigUInt64BE(1), walEnd: chunk.readBigUInt64BE(9) };
  }
  if (tag === 0x6b && chunk.length >= 18) {
    return { tag: 'keepalive', walEnd: chunk.readBigUInt64BE(1), replyRequested: chunk[17] === 1 };
  }
  throw new SourceError(SourceErrorCode.Protocol, `replication: unexpected CopyData message (tag ${String(tag)}, ${chunk.length} bytes)`);
}

/**
 * A Standby status update. `flush` is what the slot may confirm: Postgres will not resend transactions that
 * committed before it, and may recycle WAL before it.
 * @example standbyStatus(lsn, Date.now())
 */
export function standbyStatus(flush: bigint, nowMillis: number, replyRequested = false): Buffer {
  const b = Buffer.alloc(34);
  b[0] = 0x72; // 'r'
  b.writeBigUInt64BE(flush, 1); // written
  b.writeBigUInt64BE(flush, 9); // flushed
  b.writeBigUInt64BE(flush, 17); // applied
  b.writeBigInt64BE(BigInt(Math.trunc(nowMillis)) * 1000n - PG_EPOCH_OFFSET_MICROS, 25);
  b[33] = replyRequested ? 1 : 0;
  return b;
}
