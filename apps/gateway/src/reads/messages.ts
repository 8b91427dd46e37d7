// Conversions from store records to merklesync.v1 messages that only the gateway returns (the shared ones —
// checkpoints, table-root and consistency proofs — live in libs/protocol's messages.ts).
import { create } from '@bufbuild/protobuf';
import { DataBlockSchema, type DataBlock } from '@merklesync/protocol';
import type { StoredBlock } from '@merklesync/store';

/** The DataBlock message of a stored block (a tombstone has no block and no leaf commitment). */
export function blockToMessage(b: StoredBlock): DataBlock {
  return create(DataBlockSchema, {
    source: b.source,
    table: b.table,
    mapKey: b.mapKey,
    leafCommitment: b.leafCommitment ?? new Uint8Array(0),
    block: b.block ?? new Uint8Array(0),
    rowVersion: b.rowVersion,
    op: b.op,
  });
}
