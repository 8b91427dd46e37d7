// Applying ChangeBatch messages: stage them in memory (maps + log), persist map nodes, log nodes, the latest
// block per row key, table roots, the applied stream sequence and (when due) a checkpoint with its table roots
// in ONE transaction (libs/store applyBatch) — for a GROUP of consecutive messages when several are in flight
// (README "Group commit") — then commit the in-memory state and publish root updates (and the checkpoint).
// While one group's transaction runs, the next group stages on top of it; its transaction starts after the first
// has committed (README "Group commit", step 6).
//
// Failure rules (README "Guarantees"):
// - a message is applied only right after its predecessor on the consumer's filter (same stream sequence + 1,
//   or every filtered message in between is malformed or gone from the stream); otherwise it is nak'ed;
// - a group fails or succeeds as a whole: on failure every message of it, of the group staged on top of it and
//   every message waiting behind them is nak'ed;
// - a message whose sequence the state already reflects is acknowledged without effect (redelivery);
// - if the transaction fails, the staged state is abandoned and reloaded from the store before the next
//   message (the log tree was appended to in place); the message is retried (RetryableError → nak);
// - if the store reports the sequence as already applied while memory is behind (ambiguous commit, or a
//   restart race), memory is abandoned too and reloaded: the store is the source of truth.
import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { SpanKind, SpanStatusCode, context, trace, type Link } from '@opentelemetry/api';
import { RetryableError } from '@merklesync/messaging';
import type { ChangeBatch } from '@merklesync/protocol';
import { decodeEvent } from '@merklesync/protocol';
import { StoreError, StoreErrorCode, type CheckpointInput, type MerkleStore, type StoredCheckpoint } from '@merklesync/store';
import { busSubjects, type BusSubjects } from '../bus-subjects.ts';
import { CheckpointService } from '../checkpoint/checkpoint.service.ts';
import type { MerkleConfig } from '../config.ts';
import { CHANGES_READER, MERKLE_CONFIG, MERKLE_STORE, type ChangesReader } from '../ports.ts';
import { EventOutbox } from '../publish/outbox.ts';
import { rootUpdateMessages } from '../publish/events.ts';
import type { MerkleState, SealedGroup, StagedBatch } from '../state/merkle-state.ts';
import { StateHolder } from '../state/state-holder.ts';
import { WorkQueue } from '../state/work-queue.ts';
import { validateBatch } from './validate.ts';

/** What happened to one message. */
export type ApplyOutcome =
  | { readonly applied: true; readonly sequence: number; readonly changes: number; readonly checkpoint: number | undefined }
  | { readonly applied: false; readonly sequence: number };

/** Time spent per phase, summed over applied messages (for the measurement, README "Measured"). */
export interface ApplyTimings {
  messages: number;
  changes: number;
  /** Map updates + log appends + roots (in memory). */
  stageMs: number;
  /** The Postgres transaction. */
  persistMs: number;
  /** Root update / checkpoint publishes. */
  publishMs: number;
  /** Listing the new map nodes when a group is sealed (before its transaction, outside persistMs). */
  collectNodesMs: number;
  /** Parts of persistMs: writing the map nodes, writing the log nodes. */
  mapNodesMs: number;
  logNodesMs: number;
  /** Part of persistMs: writing the latest block per row key (block chunks under the group's locator). */
  blocksMs: number;
  /** Map nodes written. */
  mapNodes: number;
  /** Block rows inserted or replaced (the latest change per key of each group). */
  blocks: number;
  /** Transactions (groups) committed; `messages / groups` is the mean group size. */
  groups: number;
  /** Messages nak'ed because a predecessor was not applied yet (gap check). */
  outOfOrder: number;
  /** Groups staged while the previous group's transaction was running (pipelined). */
  overlapped: number;
}

interface _Pending {
  readonly batch: ChangeBatch;
  readonly seq: number;
  /** The message's trace (its consumer span), linked from the group's span. */
  readonly link: Link | undefined;
  readonly resolve: (o: ApplyOutcome) => void;
  readonly reject: (e: unknown) => void;
}

interface _Member extends _Pending {
  readonly staged: StagedBatch;
}

/** Messages staged together, to be persisted in one transaction; open to more while the group before it persists. */
interface _Group {
  readonly members: _Member[];
  /** Redeliveries of members of this group: settled with it. */
  readonly duplicates: _Pending[];
  /** The group's transaction appends a checkpoint over the state after its last message. */
  checkpoint: boolean;
  changes: number;
  /** Sequence of the last member (or, while empty, of what it follows). */
  tail: number;
  /** Takes no more members (size limit, checkpoint by count, or a message that must wait for its predecessor). */
  closed: boolean;
}

/** A group whose transaction is running while the next one stages; the drain lands it before the next one starts. */
interface _Flight {
  /** Last member's sequence. */
  readonly tail: number;
  readonly changes: number;
  readonly checkpoint: boolean;
  /** Redeliveries of its members that arrived while it ran: settled with it. */
  readonly late: _Pending[];
  /** True when the state is still usable afterwards (committed); false when it was abandoned (members settled). */
  readonly done: Promise<boolean>;
}

/**
 * The one entry point of the consumer handler.
 * @example await applyService.apply(batch, ctx.getStreamSequence(), ctx.getSubject())
 */
@Injectable()
export class ApplyService implements OnApplicationBootstrap {
  private readonly logger = new Logger('Apply');
  private readonly config: MerkleConfig;
  private readonly store: MerkleStore;
  private readonly holder: StateHolder;
  private readonly queue: WorkQueue;
  private readonly checkpoints: CheckpointService;
  private readonly outbox: EventOutbox;
  private readonly reader: ChangesReader;
  private readonly subjects: BusSubjects;
  private seenLoads = 0;
  /** Messages handed to apply() and not yet taken into a group (any order; groups take them by sequence). */
  private pending: _Pending[] = [];
  private drainScheduled = false;
  /** Wakes a drain that waits for its group in flight to land or for more messages to stage, whichever is first. */
  private arrived: (() => void) | undefined;
  readonly timings: ApplyTimings = { messages: 0, changes: 0, stageMs: 0, persistMs: 0, publishMs: 0, collectNodesMs: 0, mapNodesMs: 0, logNodesMs: 0, blocksMs: 0, mapNodes: 0, blocks: 0, groups: 0, outOfOrder: 0, overlapped: 0 };

  constructor(
    @Inject(MERKLE_CONFIG) config: MerkleConfig,
    @Inject(MERKLE_STORE) store: MerkleStore,
    @Inject(StateHolder) holder: StateHolder,
    @Inject(WorkQueue) queue: WorkQueue,
    @Inject(CheckpointService) checkpoints: CheckpointService,
    @Inject(EventOutbox) outbox: EventOutbox,
    @Inject(CHANGES_READER) reader: ChangesReader,
  ) {
    this.config = config;
    this.store = store;
    this.holder = holder;
    this.queue = queue;
    this.checkpoints = checkpoints;
    this.outbox = outbox;
    this.reader = reader;
    this.subjects = busSubjects(config.bus.subjectPrefix);
  }

  /** Start-up, before the transport pulls: migrate, load the state and the checkpoint chain. */
  async onApplicationBootstrap(): Promise<void> {
    await this.store.migrate();
    const state = await this.holder.current();
    await this.checkpoints.start(state.log.size);
    this.seenLoads = this.holder.loads;
  }

  // The live state; after a reload, the checkpoint chain head is re-read too (it may have moved in a
  // transaction whose commit was reported as failed).
  private async _state(): Promise<MerkleState> {
    const state = await this.holder.current();
    if (this.holder.loads !== this.seenLoads) {
      await this.checkpoints.resync(state.log.size);
      this.seenLoads = this.holder.loads;
    }
    return state;
  }

  /**
   * Applies one message (idempotent by stream sequence). Resolves once the message is durable — persisted
   * alone, or in one transaction with the consecutive messages in flight at the same time (group commit).
   * @throws MalformedPayloadError when the batch does not belong on its subject (dead-lettered);
   *   RetryableError when the store is unavailable, the message's group failed, or a predecessor on the
   *   consumer's filter has not been applied yet (nak, retried; state reloaded first when needed).
   */
  apply(batch: ChangeBatch, streamSeq: number, subject: string): Promise<ApplyOutcome> {
    validateBatch(batch, subject, this.subjects);
    return new Promise<ApplyOutcome>((resolve, reject) => {
      const span = trace.getSpanContext(context.active());
      this.pending.push({ batch, seq: streamSeq, link: span === undefined ? undefined : { context: span }, resolve, reject });
      this.arrived?.();
      this.arrived = undefined;
      this._scheduleDrain();
    });
  }

  // One drain task at a time in the work queue (serialised with checkpoint ticks). It is queued on the next
  // macrotask, so handlers of messages delivered together have all called apply() by then.
  private _scheduleDrain(): void {
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    setImmediate(() => {
      this.drainScheduled = false;
      this.queue.run(() => this._drain()).catch((e: unknown) => this.logger.error(`apply drain failed: ${String(e)}`));
    });
  }

  // Groups are pipelined: while one group's transaction runs, the messages arriving meanwhile are staged as the
  // next group — as they arrive, so its size is what one transaction's time brings in, as without pipelining —
  // and its transaction starts once the first one has committed (README "Group commit", step 6).
  private async _drain(): Promise<void> {
    let flight: _Flight | undefined;
    let open: _Group | undefined;
    let state: MerkleState | undefined;
    for (;;) {
      if (flight === undefined && open === undefined) {
        if (this.pending.length === 0) return;
        try {
          state = await this._state();
        } catch (e) {
          const all = this.pending;
          this.pending = [];
          _rejectAll(all, _retryable('loading the state', e));
          return;
        }
      }
      // A group in flight that will prune the node store must commit with nothing staged after it.
      const canStage = open?.closed !== true && !(flight !== undefined && state!.pruneDue(this.config.pruneEveryChanges));
      if (this.pending.length > 0 && canStage) {
        const waiting = this.pending.sort((a, b) => a.seq - b.seq);
        this.pending = [];
        const formed = await this._form(state!, waiting, flight, open);
        if (flight !== undefined && open === undefined && formed.group !== undefined) this.timings.overlapped++;
        open = formed.group;
        this.pending.push(...formed.rest);
        if (flight === undefined && open !== undefined) {
          flight = this._launch(state!, open);
          open = undefined;
        }
        continue;
      }
      if (flight === undefined) continue;
      // Nothing to stage now: wait for the group in flight, or for more messages while the next group can take them.
      if (canStage && !(await Promise.race([flight.done.then(() => true), new Promise<false>((r) => (this.arrived = () => r(false)))]))) continue;
      this.arrived = undefined;
      const usable = await _land(flight);
      flight = undefined;
      if (open === undefined) continue;
      if (usable) {
        flight = this._launch(state!, open);
      } else {
        // Staged on a state that is gone: retried after the reload, as everything queued behind a failed group.
        const e = new RetryableError(`sequences ${open.members[0]!.seq}–${open.tail}: the group before them was not persisted`);
        const behind = this.pending;
        this.pending = [];
        _rejectAll([...open.members, ...open.duplicates, ...behind], e);
      }
      open = undefined;
    }
  }

  /**
   * Stages messages of `waiting` (sorted by sequence) into `group` (a new one when undefined), on top of the group
   * in flight, if any.
   * @returns the group (undefined when nothing could be staged) and the messages left for later.
   */
  private async _form(state: MerkleState, waiting: _Pending[], flight: _Flight | undefined, group: _Group | undefined): Promise<{ group: _Group | undefined; rest: _Pending[] }> {
    const g: _Group = group ?? { members: [], duplicates: [], checkpoint: false, changes: 0, tail: flight?.tail ?? state.sequence, closed: false };
    const { members, duplicates } = g;
    let i = 0;
    for (; i < waiting.length; i++) {
      const m = waiting[i]!;
      if (m.seq <= state.sequence) {
        m.resolve({ applied: false, sequence: state.sequence });
        continue;
      }
      if (flight !== undefined && m.seq <= flight.tail) {
        flight.late.push(m);
        continue;
      }
      if (m.seq <= g.tail) {
        duplicates.push(m);
        continue;
      }
      if (members.length > 0 && g.changes + m.batch.events.length > this.config.bus.groupMaxChanges) {
        g.closed = true;
        break;
      }
      if (m.seq !== g.tail + 1 && this.config.bus.maxInFlight > 1) {
        let gap: number | undefined;
        try {
          gap = await this._unappliedBetween(g.tail, m.seq);
        } catch (e) {
          if (members.length > 0) {
            g.closed = true; // persist what is staged; this one is checked again next round
            break;
          }
          _rejectAll(waiting.slice(i), new RetryableError(`cannot check the changes stream before sequence ${m.seq}: ${String(e)}`, { cause: e }));
          return { group: undefined, rest: [] };
        }
        if (gap !== undefined) {
          if (members.length > 0) {
            g.closed = true; // the predecessor may be in flight: persist the group, look again
            break;
          }
          // Not applying it: "applied up to m.seq" would skip the valid message at `gap`. Everything after it
          // waits for the same predecessor.
          this.timings.outOfOrder += waiting.length - i;
          this.logger.warn(`sequence ${m.seq} arrived before sequence ${gap} was applied (state at ${g.tail}); retried later`);
          _rejectAll(waiting.slice(i), new RetryableError(`sequence ${m.seq}: predecessor ${gap} not applied yet`, { retryAfterMs: _OUT_OF_ORDER_RETRY_MS }));
          return { group: members.length > 0 ? g : undefined, rest: [] };
        }
      }
      // The group in flight failed while this one staged (the gap check awaits): nothing more can be staged on it.
      if (state.isAbandoned) {
        g.closed = true;
        break;
      }
      const t0 = performance.now();
      const staged = state.stage(m.batch.events, m.seq);
      members.push({ ...m, staged });
      g.tail = m.seq;
      g.changes += staged.changes;
      // A checkpoint due by count closes the group: it is over the state after this message, as without grouping.
      // One due by time does not: the messages already waiting join the group and the checkpoint is signed over
      // the state after the last of them (README "Policy"), so a backlog is persisted in groups of up to
      // MERKLE_GROUP_MAX_CHANGES instead of one group per EVERY_MS. A group in flight counts until it committed
      // (then the checkpoint service has counted it), or until its checkpoint is appended when it has one.
      const trigger = this.checkpoints.due(g.changes, flight !== undefined && (flight.checkpoint || state.sequence < flight.tail) ? flight : undefined);
      if (trigger !== undefined) g.checkpoint = true;
      this.timings.stageMs += performance.now() - t0;
      if (trigger === 'changes') {
        g.closed = true;
        i++;
        break;
      }
    }
    const rest = waiting.slice(i);
    if (members.length === 0) {
      for (const d of duplicates) d.resolve({ applied: false, sequence: state.sequence });
      return { group: undefined, rest };
    }
    return { group: g, rest };
  }

  /**
   * Seals the staged group and starts its transaction (the previous group has landed): its map nodes, log size and
   * checkpoint (chained to the previous group's) are taken now, before anything more is staged.
   */
  private _launch(state: MerkleState, group: _Group): _Flight {
    const { members, duplicates } = group;
    const tail = members.at(-1)!.seq;
    const c0 = performance.now();
    // Locator of the group's new map nodes: its last stream sequence, above every earlier group's.
    const sealed = state.seal(tail);
    this.timings.collectNodesMs += performance.now() - c0;
    const cp = group.checkpoint ? this.checkpoints.build({ ...sealed.last, tables: sealed.last.allTables }) : undefined;
    // One span per group, linked to every member message's trace: the transaction and the publishes after it
    // belong to all of them, not only to the message whose handler happened to schedule the drain.
    const links = members.flatMap((m) => (m.link === undefined ? [] : [m.link]));
    const span = _tracer.startSpan('merkle apply group', {
      kind: SpanKind.INTERNAL,
      links,
      attributes: { 'merklesync.group.messages': members.length, 'merklesync.group.first_seq': members[0]!.seq, 'merklesync.group.last_seq': tail },
    }, context.active());
    const late: _Pending[] = [];
    // The span ends before the members are settled, so it is complete by the time their handlers return.
    const done = context
      .with(trace.setSpan(context.active(), span), () => this._persist(state, members, sealed, cp, () => span.end()))
      .then(
        (usable) => {
          for (const d of duplicates) d.resolve({ applied: false, sequence: tail });
          return usable;
        },
        (e: unknown) => {
          span.recordException(e instanceof Error ? e : String(e));
          span.setStatus({ code: SpanStatusCode.ERROR, message: e instanceof Error ? e.message : String(e) });
          span.end();
          _rejectAll([...members, ...duplicates], e);
          return false;
        },
      );
    return { tail, changes: sealed.changes, checkpoint: cp !== undefined, late, done };
  }

  /**
   * The first valid message on the consumer's filter strictly between `after` and `seq` (which would be
   * skipped if `seq` were applied now), or undefined when there is none: messages that are malformed (they are
   * dead-lettered, never applied) or no longer in the stream do not count.
   */
  private async _unappliedBetween(after: number, seq: number): Promise<number | undefined> {
    let from = after + 1;
    while (from < seq) {
      const m = await this.reader.firstFrom(from);
      if (m === undefined || m.seq >= seq) return undefined;
      if (!_malformed(m.data, m.subject, this.subjects)) return m.seq;
      from = m.seq + 1;
    }
    return undefined;
  }

  /**
   * Persists a sealed group and settles its members.
   * @returns true when committed; false when the store was ahead (state abandoned, members settled as redeliveries).
   * @throws the retryable failure of the transaction (state abandoned).
   */
  private async _persist(state: MerkleState, members: readonly _Member[], sealed: SealedGroup, cp: CheckpointInput | undefined, beforeSettle: () => void): Promise<boolean> {
    const t1 = performance.now();
    const last = members.at(-1)!;
    const { logId } = this.config.checkpoint;
    let result;
    // Map nodes are content-addressed and immutable: they may be committed before the group's transaction, on
    // other connections, in parallel with it (nodeWriters > 0). Nothing refers to them until the transaction
    // stores the roots, and it commits only after every node write has (a failed group leaves unreachable
    // copies, as old map versions are anyway).
    const nodes = sealed.nodes;
    const writers = this.config.database.nodeWriters;
    const early = writers > 0 ? Promise.all(nodes.parts(writers).map((part) => this.store.maps.putNodes(part))).then(() => performance.now()) : undefined;
    early?.catch(() => undefined); // awaited below; never an unhandled rejection
    try {
      result = await this.store.apply.applyBatch(this.config.bus.consumer, last.seq, async (w): Promise<StoredCheckpoint | undefined> => {
        if (early === undefined) await w.putMapNodes(nodes);
        const p2 = performance.now();
        await w.putLogNodes(logId, state.log, sealed.last.logSize); // the log may have grown by the next group since
        const p3 = performance.now();
        // Every member's blocks, the latest per row key (later messages have higher log indexes), in chunks under the
        // group's locator: the locator of the map leaves it wrote, through which readers find them (libs/store README
        // "Block chunks").
        const group = { at: last.seq, logEnd: sealed.last.logSize };
        const blocks = await w.putBlocks(members.length === 1 ? members[0]!.staged.blocks : members.flatMap((m) => m.staged.blocks), group);
        const p4 = performance.now();
        for (const t of sealed.tables) await w.setTableRoot(t.source, t.table, t.root, t.seq ?? last.seq);
        // Parallel node writes: mapNodesMs is the time the transaction waited for them beyond its own writes.
        const p5 = early === undefined ? p4 : Math.max(p4, await early);
        this.timings.mapNodesMs += early === undefined ? p2 - t1 : p5 - p4;
        this.timings.logNodesMs += p3 - p2;
        this.timings.blocksMs += p4 - p3;
        this.timings.mapNodes += nodes.count;
        this.timings.blocks += blocks;
        return cp === undefined ? undefined : w.appendCheckpoint(cp);
      });
    } catch (e) {
      await early?.catch(() => undefined); // no writes of this group outlive its failure
      state.abandon();
      const what = members.length === 1 ? `sequence ${last.seq}` : `sequences ${members[0]!.seq}–${last.seq}`;
      this.logger.warn(`${what} not persisted (state will be reloaded): ${String(e)}`);
      throw _retryable(`persisting ${what}`, e);
    } finally {
      nodes.release(); // every write of them has settled: their memory goes to the next group
    }
    const t2 = performance.now();
    if (!result.applied) {
      // The store already has these sequences but memory did not: memory is behind; reload before the next.
      state.abandon();
      this.logger.warn(`sequence ${last.seq} was already applied in the store (${result.appliedSequence}); reloading state`);
      beforeSettle();
      for (const m of members) m.resolve({ applied: false, sequence: result.appliedSequence });
      return false;
    }
    const changes = sealed.changes;
    state.commit(sealed, last.seq, this.config.pruneEveryChanges);
    this.checkpoints.noteApplied(changes);
    await this.outbox.send(rootUpdateMessages(this.subjects, this.config.hashSuite, sealed, last.seq));
    if (result.result !== undefined) await this.checkpoints.appended(result.result);
    const t3 = performance.now();
    const tm = this.timings;
    tm.groups++;
    tm.messages += members.length;
    tm.changes += changes;
    tm.persistMs += t2 - t1;
    tm.publishMs += t3 - t2;
    beforeSettle();
    for (const m of members) {
      m.resolve({ applied: true, sequence: m.seq, changes: m.staged.changes, checkpoint: m === last ? result.result?.seq : undefined });
    }
    return true;
  }
}

/** Waits for a group in flight and settles the redeliveries of its members that arrived meanwhile. */
async function _land(flight: _Flight): Promise<boolean> {
  const usable = await flight.done;
  for (const m of flight.late) {
    if (usable) m.resolve({ applied: false, sequence: flight.tail });
    else m.reject(new RetryableError(`sequence ${m.seq}: its group was not persisted`));
  }
  return usable;
}

const _tracer = trace.getTracer('@merklesync/app-merkle');

// Nak delay of a message that arrived before its predecessor: short, the predecessor is usually a
// redelivery already on its way (a nak'ed group, or pending messages of a crashed instance after ack wait).
const _OUT_OF_ORDER_RETRY_MS = 250;

function _rejectAll(ms: readonly _Pending[], e: unknown): void {
  for (const m of ms) m.reject(e);
}

// Decodes and validates like the transport and apply() do: true when the message would be dead-lettered.
function _malformed(data: Uint8Array, subject: string, subjects: BusSubjects): boolean {
  try {
    validateBatch(decodeEvent('change-batch', data), subject, subjects);
    return false;
  } catch {
    return true;
  }
}

// Database and connectivity failures are worth retrying; anything else keeps its identity (the transport
// retries unknown errors too, then dead-letters after max-deliver).
function _retryable(what: string, e: unknown): unknown {
  if (e instanceof StoreError && e.code === StoreErrorCode.Database) return new RetryableError(`${what}: ${e.message}`, { cause: e });
  return e;
}
