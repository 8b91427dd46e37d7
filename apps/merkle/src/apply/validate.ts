// Checks beyond decodeEvent's (which already enforces the protocol's shape: hashes of 32 bytes, delete ⇔ no
// commitment and no block, every event of the batch's source/table/transaction): the message must sit on
// the subject of its (source, table), so a consumer filtering one table never applies another's changes.
import { MalformedPayloadError } from '@merklesync/messaging';
import type { ChangeBatch } from '@merklesync/protocol';
import type { BusSubjects } from '../bus-subjects.ts';

const _ROW_VERSION_LIMIT = 1n << 63n;

/**
 * Validates a decoded ChangeBatch against the subject it arrived on.
 * @throws MalformedPayloadError (dead-lettered at once) when the subject does not match or an event lacks its block.
 * @example validateBatch(batch, ctx.getSubject(), busSubjects('ms'))
 */
export function validateBatch(batch: ChangeBatch, subject: string, subjects: BusSubjects): void {
  let expected: string;
  try {
    expected = subjects.changes(batch.source, batch.table);
  } catch (e) {
    throw new MalformedPayloadError(`batch names an invalid source/table: ${String(e)}`, { cause: e });
  }
  if (subject !== expected) throw new MalformedPayloadError(`batch of ${batch.source}/${batch.table} arrived on ${subject}, expected ${expected}`);
  batch.events.forEach((e, i) => {
    if (e.block === undefined) throw new MalformedPayloadError(`events[${i}].block: missing`);
    if (e.block.source !== batch.source || e.block.table !== batch.table) throw new MalformedPayloadError(`events[${i}].block: other table than the batch's`);
    // The blocks table stores row_version as a Postgres bigint and op as 1..4 (libs/store BlockOp; a truncate, 5,
    // is stored as one delete per row): refuse what it could never store here, rather than retrying it forever.
    if (e.block.rowVersion >= _ROW_VERSION_LIMIT) throw new MalformedPayloadError(`events[${i}].block.row_version: must be below 2^63`);
    if (e.block.op < 1 || e.block.op > 5) throw new MalformedPayloadError(`events[${i}].block.op: unknown operation ${e.block.op}`);
  });
}
