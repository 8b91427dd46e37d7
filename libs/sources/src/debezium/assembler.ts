// The pure core of the Debezium source: Kafka records (already parsed) in, ChangeBatches out, and the Kafka offsets
// that may be committed once batches are acknowledged. No I/O: debezium-source.ts feeds it from kafkajs.
//
// - Transactions: change events are grouped by xid; the transaction topic's END (in commit order: one partition)
//   says how many events each table contributed. A transaction is sealed, in END order, only when every event of
//   the captured tables has arrived (from whatever partitions), and delivered as parts of ≤ maxChanges changes in
//   `total_order`. Its Kafka records (data, BEGIN, END) become committable only when its last part is acknowledged.
// - Snapshot reads (op 'r') are upserts: delivered in chunks of one topic-partition as they arrive, each chunk
//   named by its offset range, so a chunk redelivered after a restart can never be mistaken for a different one.
// - Tombstones, heartbeats and records of other tables are committable at once (in offset order).
import { formatLsn } from '../lsn.ts';
import { SourceError, SourceErrorCode } from '../errors.ts';
import type { BatchPosition, Change, ChangeBatch } from '../types.ts';
import type { DebeziumRecord } from './record.ts';

/** One consumed Kafka record. `done` once nothing needs it redelivered. */
export interface RecordRef {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  done: boolean;
}

/** A Kafka offset to commit: the next record to read after a restart. */
export interface OffsetCommit {
  topic: string;
  partition: number;
  offset: string;
}

interface _Event {
  change: Change | null;
  ref: RecordRef;
  lsn: bigint;
  timeMicros: bigint | null;
}

interface _Tx {
  events: Map<number, _Event>;
  /** Events that arrived twice (at-least-once Connect): committable with the transaction. */
  extra: RecordRef[];
  end: { endLsn: bigint | null; commitLsn: bigint | null; expected: number; tsMs: number | null } | null;
}

interface _Delivered {
  batch: ChangeBatch;
  refs: RecordRef[];
}

const _REMEMBERED_XIDS = 100_000;

/** Partition-ordered done-tracking: the committable offset is the first record not yet done. */
class _OffsetTracker {
  readonly #parts = new Map<string, { topic: string; partition: number; queue: RecordRef[]; committed: bigint | null }>();

  add(ref: RecordRef): void {
    const k = `${ref.topic}\u0000${ref.partition}`;
    let p = this.#parts.get(k);
    if (!p) this.#parts.set(k, (p = { topic: ref.topic, partition: ref.partition, queue: [], committed: null }));
    p.queue.push(ref);
  }

  /** Offsets that moved since the last call. */
  advance(): OffsetCommit[] {
    const out: OffsetCommit[] = [];
    for (const p of this.#parts.values()) {
      let i = 0;
      while (i < p.queue.length && p.queue[i]!.done) i++;
      if (i === 0) continue;
      const next = p.queue[i - 1]!.offset + 1n;
      p.queue.splice(0, i);
      if (p.committed === null || next > p.committed) {
        p.committed = next;
        out.push({ topic: p.topic, partition: p.partition, offset: next.toString() });
      }
    }
    return out;
  }

  /** Forget a partition (revoked by a rebalance): its uncommitted records will be redelivered to whoever gets it. */
  drop(topic: string, partition: number): void {
    this.#parts.delete(`${topic}\u0000${partition}`);
  }
}

/** Options of {@link DebeziumAssembler}. */
export interface AssemblerOptions {
  /** Captured tables, `schema.table`. Events of other tables are skipped; END counts of other tables ignored. */
  tables: ReadonlySet<string>;
  /** Most changes in one delivered batch. */
  maxChanges: number;
}

/**
 * Turns parsed Debezium records into ChangeBatches (see the file comment for the rules).
 * @example
 * const a = new DebeziumAssembler({ tables: new Set(['public.users']), maxChanges: 1000 });
 * a.push(ref, record); const batches = [...a.flushSnapshot(), ...a.drain()];
 */
export class DebeziumAssembler {
  readonly #opts: AssemblerOptions;
  readonly #offsets = new _OffsetTracker();
  readonly #txs = new Map<string, _Tx>();
  /** xids in END order, not yet delivered. */
  readonly #ends: string[] = [];
  /** xids delivered (duplicates of their records are dropped), oldest first. */
  readonly #deliveredXids = new Set<string>();
  readonly #snapshot = new Map<string, { topic: string; partition: number; events: _Event[] }>();
  readonly #delivered: _Delivered[] = [];
  /** Streamed events without transaction metadata, in arrival order. */
  readonly #pendingSingles: _Event[] = [];
  /** Transactions sealed so far without a single captured change (nothing to deliver). */
  emptyTransactions = 0;

  constructor(opts: AssemblerOptions) {
    if (!Number.isSafeInteger(opts.maxChanges) || opts.maxChanges < 1) throw new RangeError('maxChanges must be a positive integer');
    this.#opts = opts;
  }

  /** Batches delivered and not yet acknowledged. */
  get unacknowledged(): number {
    return this.#delivered.length;
  }

  /** Transactions seen (events or END) and not yet delivered. */
  get pendingTransactions(): number {
    return this.#txs.size;
  }

  #tx(xid: string): _Tx {
    let t = this.#txs.get(xid);
    if (!t) this.#txs.set(xid, (t = { events: new Map(), extra: [], end: null }));
    return t;
  }

  /** A record that needs nothing more (tombstone, heartbeat, other table, dead-lettered outside a transaction). */
  skip(ref: RecordRef): void {
    this.#offsets.add(ref);
    ref.done = true;
  }

  /**
   * A record that was dead-lettered; when it belonged to a transaction it still counts toward that transaction's
   * END (which is otherwise never complete), without a change.
   */
  pushPoison(ref: RecordRef, table: string | null, xid: string | null, totalOrder: number | null): void {
    if (xid === null || totalOrder === null || (table !== null && !this.#opts.tables.has(table)) || this.#deliveredXids.has(xid)) return this.skip(ref);
    this.#offsets.add(ref);
    const tx = this.#tx(xid);
    if (tx.events.has(totalOrder)) tx.extra.push(ref);
    else tx.events.set(totalOrder, { change: null, ref, lsn: 0n, timeMicros: null });
  }

  /** Adds one parsed record. */
  push(ref: RecordRef, rec: DebeziumRecord): void {
    switch (rec.kind) {
      case 'tombstone':
      case 'heartbeat':
        return this.skip(ref);
      case 'tx-begin':
        if (this.#deliveredXids.has(rec.xid)) return this.skip(ref);
        this.#offsets.add(ref);
        this.#tx(rec.xid).extra.push(ref);
        return;
      case 'tx-end': {
        if (this.#deliveredXids.has(rec.xid)) return this.skip(ref);
        let expected = 0;
        for (const [table, n] of rec.counts) if (this.#opts.tables.has(table)) expected += n;
        const tx = this.#tx(rec.xid);
        this.#offsets.add(ref);
        tx.extra.push(ref);
        if (tx.end === null) this.#ends.push(rec.xid);
        tx.end = { endLsn: rec.endLsn, commitLsn: rec.commitLsn, expected, tsMs: rec.tsMs };
        return;
      }
      case 'change': {
        if (!this.#opts.tables.has(rec.table)) return this.skip(ref);
        const ev: _Event = { change: rec.change, ref, lsn: rec.lsn, timeMicros: rec.timeMicros };
        if (rec.snapshot !== null) {
          this.#offsets.add(ref);
          const k = `${ref.topic}\u0000${ref.partition}`;
          let s = this.#snapshot.get(k);
          if (!s) this.#snapshot.set(k, (s = { topic: ref.topic, partition: ref.partition, events: [] }));
          s.events.push(ev);
          return;
        }
        if (rec.xid === null) {
          // Streamed by a connector without transaction metadata: each event is its own transaction.
          this.#offsets.add(ref);
          this.#pendingSingles.push(ev);
          return;
        }
        if (this.#deliveredXids.has(rec.xid)) return this.skip(ref);
        this.#offsets.add(ref);
        const tx = this.#tx(rec.xid);
        const order = rec.totalOrder ?? tx.events.size + 1;
        if (tx.events.has(order)) tx.extra.push(ref);
        else tx.events.set(order, ev);
        return;
      }
    }
  }

  /** Snapshot chunks read so far (each ≤ maxChanges, one topic-partition each). Call before {@link drain}. */
  flushSnapshot(): ChangeBatch[] {
    const out: ChangeBatch[] = [];
    for (const s of this.#snapshot.values()) {
      for (let i = 0; i < s.events.length; i += this.#opts.maxChanges) {
        const evs = s.events.slice(i, i + this.#opts.maxChanges);
        const first = evs[0]!.ref.offset;
        const last = evs[evs.length - 1]!.ref.offset;
        const batch: ChangeBatch = {
          kind: 'snapshot',
          xid: null,
          commitLsn: formatLsn(evs[0]!.lsn),
          endLsn: null,
          commitTimeMicros: null,
          part: 0,
          last: true,
          changes: evs.map((e) => e.change!),
          sourcePosition: `${s.topic}/${s.partition}/${first}-${last}`,
        };
        this.#delivered.push({ batch, refs: evs.map((e) => e.ref) });
        out.push(batch);
      }
      s.events = [];
    }
    for (const e of this.#pendingSingles.splice(0)) {
      const batch: ChangeBatch = {
        kind: 'transaction',
        xid: null,
        commitLsn: formatLsn(e.lsn),
        endLsn: formatLsn(e.lsn),
        commitTimeMicros: e.timeMicros,
        part: 0,
        last: true,
        changes: [e.change!],
        sourcePosition: `${e.ref.topic}/${e.ref.partition}/${e.ref.offset}`,
      };
      this.#delivered.push({ batch, refs: [e.ref] });
      out.push(batch);
    }
    return out;
  }

  /** Every sealed transaction, in END (commit) order, as parts of ≤ maxChanges changes. */
  drain(): ChangeBatch[] {
    const out: ChangeBatch[] = [];
    while (this.#ends.length > 0) {
      const xid = this.#ends[0]!;
      const tx = this.#txs.get(xid)!;
      const end = tx.end!;
      // Events may outnumber the END count only through duplicates (handled above) or a count we do not capture.
      if (tx.events.size < end.expected) break;
      this.#ends.shift();
      this.#txs.delete(xid);
      this.#remember(xid);
      const events = [...tx.events.entries()].sort((a, b) => a[0] - b[0]).map(([, e]) => e);
      const refs = [...events.map((e) => e.ref), ...tx.extra];
      const changes = events.flatMap((e) => (e.change ? [e.change] : []));
      if (changes.length === 0) {
        // Nothing captured (or every event dead-lettered): committable now, in order.
        for (const r of refs) r.done = true;
        this.emptyTransactions++;
        continue;
      }
      const position = end.commitLsn ?? end.endLsn ?? events[0]!.lsn;
      const commitLsn = formatLsn(position);
      const endLsn = end.endLsn !== null ? formatLsn(end.endLsn) : commitLsn;
      const time = events.find((e) => e.timeMicros !== null)?.timeMicros ?? (end.tsMs !== null ? BigInt(end.tsMs) * 1000n : null);
      const parts = Math.ceil(changes.length / this.#opts.maxChanges);
      for (let p = 0; p < parts; p++) {
        const last = p === parts - 1;
        const batch: ChangeBatch = {
          kind: 'transaction',
          xid: Number(xid),
          commitLsn,
          endLsn: last ? endLsn : null,
          commitTimeMicros: time,
          part: p,
          last,
          changes: changes.slice(p * this.#opts.maxChanges, (p + 1) * this.#opts.maxChanges),
        };
        // The transaction's records are released only with its last part (a middle part confirms nothing).
        this.#delivered.push({ batch, refs: last ? refs : [] });
        out.push(batch);
      }
    }
    return out;
  }

  #remember(xid: string): void {
    this.#deliveredXids.add(xid);
    if (this.#deliveredXids.size > _REMEMBERED_XIDS) {
      const oldest = this.#deliveredXids.values().next().value;
      if (oldest !== undefined) this.#deliveredXids.delete(oldest);
    }
  }

  /**
   * Cumulative acknowledgement (in delivery order): this batch and every batch delivered before it. Returns the
   * Kafka offsets that became committable.
   * @throws SourceError(INVALID_ACK) for a position never delivered (or already acknowledged).
   */
  ack(position: BatchPosition): OffsetCommit[] {
    const i = this.#delivered.findIndex(
      (d) => d.batch.kind === position.kind && d.batch.commitLsn === position.commitLsn && d.batch.part === position.part && d.batch.sourcePosition === position.sourcePosition,
    );
    if (i < 0) throw new SourceError(SourceErrorCode.InvalidAck, `ack of ${position.kind} ${position.commitLsn} part ${position.part}${position.sourcePosition ? ` (${position.sourcePosition})` : ''}: not delivered or already acknowledged`);
    for (const d of this.#delivered.splice(0, i + 1)) for (const r of d.refs) r.done = true;
    return this.#offsets.advance();
  }

  /** Offsets committable without any ack (skipped records at the head of a partition). */
  committable(): OffsetCommit[] {
    return this.#offsets.advance();
  }

  /** A partition was revoked: forget its records (they will be redelivered to whoever consumes it next). */
  revoke(topic: string, partition: number): void {
    this.#offsets.drop(topic, partition);
  }
}
