// One source batch → the bus messages that carry it: changes grouped by table (one ChangeBatch event per table,
// split further only to stay under the 1 MiB event limit), numbered across the whole transaction.
import { create } from '@bufbuild/protobuf';
import { EventLimits, RowOperation, SUBJECT_PREFIX, SourcePositionSchema, changesSubject, encodeEvent, newChangeEvent, newEvent, type ChangeEvent } from '@merklesync/protocol';
import { parseLsn, type ChangeBatch } from '@merklesync/sources';
import { IngestError, IngestErrorCode } from './ingest.errors.ts';
import { changeMsgId } from './msg-id.ts';
import type { RowSealer } from './row-sealer.ts';

/** One message to publish. */
export interface OutgoingMessage {
  subject: string;
  msgId: string;
  payload: Uint8Array;
  table: string;
  events: number;
}

/** Where the encoder is inside the current transaction (or snapshot): messages and changes numbered so far. */
interface _Cursor {
  kind: ChangeBatch['kind'];
  commitLsn: string;
  nextPart: number;
  messages: number;
  changes: number;
}

interface _Draft {
  table: string;
  chunk: number;
  partIndex: number;
  events: ChangeEvent[];
}

// Room left in an event for the header fields and protobuf framing (generous: names are ≤ 255 bytes each).
const _BUDGET = EventLimits.maxEventBytes - 64 * 1024;
const _utf8 = new TextEncoder();

/**
 * Encodes source batches of one source into ChangeBatch events, in delivery order (it keeps the transaction's
 * numbering between parts, so it must see every part of a transaction, from part 0, in order).
 *
 * - `row_version` = the transaction's commit LSN (snapshot rows: the slot's consistent point).
 * - `transaction_id` = the xid; snapshot chunks use `snapshot@<consistent point>`.
 * - `commit_time` = the commit time; snapshot rows: the ingest clock when the snapshot's first chunk arrived.
 * - `change_index` counts row events across the whole transaction (an update that changed the key counts two).
 * - `part_index` counts messages across the whole transaction; `part_count` is set on the messages of the
 *   transaction's last source batch, earlier ones carry `part_count_pending` (the count is not known yet).
 * @example const messages = await encoder.encode(batch);
 */
export class BatchEncoder {
  readonly #sealer: RowSealer;
  readonly #source: string;
  readonly #subjectPrefix: string;
  readonly #nowMicros: () => bigint;
  #cursor: _Cursor | null = null;
  #snapshotTime: { lsn: string; micros: bigint } | null = null;

  constructor(sealer: RowSealer, opts: { source: string; nowMicros: () => bigint; subjectPrefix?: string }) {
    this.#sealer = sealer;
    this.#source = opts.source;
    this.#nowMicros = opts.nowMicros;
    this.#subjectPrefix = opts.subjectPrefix ?? SUBJECT_PREFIX;
  }

  /**
   * The messages of one source batch (none for a batch without row changes).
   * @throws IngestError(ENCODE_FAILED | ROW_TOO_LARGE | INCOMPLETE_ROW | KEY_MATERIAL)
   */
  async encode(batch: ChangeBatch): Promise<OutgoingMessage[]> {
    const cursor = this.#advance(batch);
    // Each change's table name ("schema.table"), built once per run of changes to the same table: a new string per
    // change, hashed for every Map lookup, cost more than the lookup.
    const names = new Array<string>(batch.changes.length);
    const tables: string[] = [];
    let schema: string | undefined;
    let table: string | undefined;
    let name = '';
    for (const [i, c] of batch.changes.entries()) {
      if (c.schema !== schema || c.table !== table) {
        schema = c.schema;
        table = c.table;
        name = `${schema}.${table}`;
        if (!tables.includes(name)) tables.push(name);
      }
      names[i] = name;
    }
    await this.#sealer.prepare(tables);

    const rowVersion = parseLsn(batch.commitLsn);
    const txid = batch.kind === 'snapshot' ? `snapshot@${batch.commitLsn}` : String(batch.xid);
    // One SourcePosition message shared by the batch's changes (and the batch), as create would use it.
    const position = create(SourcePositionSchema, { position: { case: 'pgLsn', value: rowVersion } });
    const commitTime = batch.kind === 'snapshot' ? this.#snapshotMicros(batch.commitLsn) : (batch.commitTimeMicros ?? this.#nowMicros());
    const byTable = new Map<string, ChangeEvent[]>();
    let t = '';
    let list: ChangeEvent[] | undefined;
    for (const [i, c] of batch.changes.entries()) {
      if (names[i] !== t || list === undefined) {
        t = names[i]!;
        list = byTable.get(t);
        if (!list) byTable.set(t, (list = []));
      }
      if (c.op === 'truncate') {
        // Names the table only; merkle removes every row the table holds at this point (README "Truncate").
        list.push(
          newEvent('change', {
            block: { source: this.#source, table: t, rowVersion, op: RowOperation.TRUNCATE },
            transactionId: txid,
            position,
            commitTimeUnixMicros: commitTime,
            changeIndex: cursor.changes++,
          }),
        );
        continue;
      }
      for (const sealed of this.#sealer.seal(t, c, rowVersion)) {
        // newEvent's create per change cost more than the rest of the event's encoding (protocol README).
        list.push(
          newChangeEvent({
            source: this.#source,
            table: t,
            mapKey: sealed.mapKey,
            leafCommitment: sealed.leafCommitment,
            block: sealed.block,
            rowVersion: sealed.rowVersion,
            op: sealed.op,
            transactionId: txid,
            position,
            commitTimeUnixMicros: commitTime,
            changeIndex: cursor.changes++,
          }),
        );
      }
    }

    const drafts: _Draft[] = [];
    for (const [table, events] of byTable) {
      let chunk = 0;
      let current: ChangeEvent[] = [];
      let bytes = 0;
      // Per event besides the ciphertext: names, transaction id, two 32-byte hashes, varints and tags (~120 B).
      const fixed = _utf8.encode(this.#source).length + _utf8.encode(table).length + txid.length + 160;
      for (const e of events) {
        const size = (e.block?.block.length ?? 0) + fixed;
        if (current.length > 0 && (bytes + size > _BUDGET || current.length >= EventLimits.maxBatchEvents)) {
          drafts.push({ table, chunk: chunk++, partIndex: cursor.messages++, events: current });
          current = [];
          bytes = 0;
        }
        current.push(e);
        bytes += size;
      }
      if (current.length > 0) drafts.push({ table, chunk, partIndex: cursor.messages++, events: current });
    }

    const partCount = batch.last ? cursor.messages : 0;
    if (batch.last) this.#cursor = null;
    return drafts.map((d) => ({
      subject: this.#subjectPrefix + changesSubject(this.#source, d.table).slice(SUBJECT_PREFIX.length),
      msgId: changeMsgId(this.#source, batch, d.table, d.chunk),
      table: d.table,
      events: d.events.length,
      payload: encodeEvent(
        'change-batch',
        newEvent('change-batch', {
          source: this.#source,
          table: d.table,
          transactionId: txid,
          position,
          partIndex: d.partIndex,
          partCount,
          partCountPending: !batch.last,
          events: d.events,
        }),
      ),
    }));
  }

  #advance(batch: ChangeBatch): _Cursor {
    const c = this.#cursor;
    if (batch.part === 0) {
      this.#cursor = { kind: batch.kind, commitLsn: batch.commitLsn, nextPart: 1, messages: 0, changes: 0 };
      return this.#cursor;
    }
    if (!c || c.kind !== batch.kind || c.commitLsn !== batch.commitLsn || c.nextPart !== batch.part) {
      // The numbering of the transaction's earlier parts is unknown: publishing would give wrong part indexes.
      throw new IngestError(IngestErrorCode.SourceFailed, `${this.#source}: ${batch.kind} ${batch.commitLsn} part ${batch.part} arrived without its earlier parts`);
    }
    c.nextPart++;
    return c;
  }

  #snapshotMicros(lsn: string): bigint {
    if (this.#snapshotTime?.lsn !== lsn) this.#snapshotTime = { lsn, micros: this.#nowMicros() };
    return this.#snapshotTime.micros;
  }
}
