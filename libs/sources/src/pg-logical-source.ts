import pg from 'pg';
import { type AssembledItem, TransactionAssembler } from './assembler.ts';
import { type CapturedTable, checkServer, describeTable, dropSlot, ensurePublication, findSlot, tableKey } from './catalog.ts';
import { type PgLogicalSourceConfig, type ResolvedSourceConfig, resolveSourceConfig } from './config.ts';
import { SourceError, SourceErrorCode } from './errors.ts';
import { formatLsn, parseLsn } from './lsn.ts';
import { decodePgOutput } from './pgoutput/decode.ts';
import { parseWireMessage, standbyStatus, XLOGDATA_HEADER } from './pgoutput/wire.ts';
import { ReplicationStream } from './replication-stream.ts';
import { Signal } from './signal.ts';
import { readSnapshot } from './snapshot.ts';
import { quoteIdent } from './sql.ts';
import type { SourceStateStore } from './state.ts';
import type { BatchPosition, ChangeBatch, RowChange } from './types.ts';

/** The ports a source uses: its state store, and (overridable for tests) the database client, clock and timer. */
export interface PgLogicalSourceDeps {
  state: SourceStateStore;
  /** Creates a node-postgres client; `replication: 'database'` is set for replication connections. */
  createClient?: (config: pg.ClientConfig) => pg.Client;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

type _Status = 'idle' | 'running' | 'failed' | 'stopped';

/** A delivered, unacknowledged batch (or an empty transaction waiting behind one). */
interface _Delivered {
  rank: number;
  commitLsn: bigint;
  part: number;
  last: boolean;
  kind: 'snapshot' | 'transaction';
  /** Position the slot may confirm once this and everything before it are acknowledged. */
  endLsn: bigint | null;
  auto: boolean;
}

interface _Key {
  lsn: bigint;
  rank: number;
  part: number;
}

/** Snapshot chunks sort before transactions at the same LSN (a commit may start exactly at the consistent point). */
function _rank(kind: 'snapshot' | 'transaction'): number {
  return kind === 'snapshot' ? 0 : 1;
}

function _after(a: _Key, b: _Key | null): boolean {
  if (!b) return true;
  if (a.lsn !== b.lsn) return a.lsn > b.lsn;
  if (a.rank !== b.rank) return a.rank > b.rank;
  return a.part > b.part;
}

function _asSourceError(e: unknown, code: SourceErrorCode, what: string): SourceError {
  if (e instanceof SourceError) return e;
  return new SourceError(code, `${what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}

/**
 * PostgreSQL change source: logical replication with pgoutput, a consistent initial snapshot from the slot's
 * exported snapshot, bounded batches in commit order, and a slot position that advances only on `ack`.
 * Single consumer: iterate `batches()` and `ack` each batch once the downstream system has it durably.
 *
 * @example
 * const source = new PgLogicalSource({ connection: { host: '127.0.0.1', database: 'app', user: 'postgres' },
 *   publication: 'ms_pub', slot: 'ms_slot', tables: ['public.users'] }, { state: new MemorySourceStateStore() });
 * await source.start();
 * for await (const batch of source.batches()) { await publish(batch); await source.ack(batch); }
 */
export class PgLogicalSource {
  readonly #cfg: ResolvedSourceConfig;
  readonly #state: SourceStateStore;
  readonly #createClient: (config: pg.ClientConfig) => pg.Client;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #tables = new Map<string, CapturedTable>();
  readonly #assembler: TransactionAssembler;
  #status: _Status = 'idle';
  #ready: AssembledItem[] = [];
  #delivered: _Delivered[] = [];
  #lastEnqueued: _Key | null = null;
  #lastAcked: _Key | null = null;
  #flushed = 0n;
  #consistentPoint = '';
  #stream: ReplicationStream | null = null;
  #statusTimer: ReturnType<typeof setInterval> | null = null;
  #snapshotTask: Promise<void> | null = null;
  #reconnecting: Promise<void> | null = null;
  #error: SourceError | null = null;
  /** A batch became deliverable (or the source stopped or failed). */
  readonly #wake = new Signal();
  #roomWaiters: (() => void)[] = [];
  #ackChain: Promise<void> = Promise.resolve();

  /** @throws SourceError(INVALID_CONFIG) naming the bad field. */
  constructor(config: PgLogicalSourceConfig, deps: PgLogicalSourceDeps) {
    this.#cfg = resolveSourceConfig(config);
    if (!deps || typeof deps.state?.load !== 'function') throw new SourceError(SourceErrorCode.InvalidConfig, 'deps.state: a SourceStateStore is required');
    this.#state = deps.state;
    this.#createClient = deps.createClient ?? ((c) => new pg.Client(c));
    this.#now = deps.now ?? Date.now;
    this.#sleep = deps.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.#assembler = new TransactionAssembler(
      this.#tables,
      { maxChanges: this.#cfg.maxChanges, maxBytes: this.#cfg.maxBytes, toast: this.#cfg.toast, strictRelations: this.#cfg.tables === null },
      (item) => this.#enqueue(item),
    );
  }

  /** The position the slot has been told it may confirm (`confirmed_flush_lsn` follows it). */
  get confirmedLsn(): string {
    return formatLsn(this.#flushed);
  }

  /** The captured tables as described at start-up (`schema.table` → key columns and types). */
  get tables(): ReadonlyMap<string, CapturedTable> {
    return this.#tables;
  }

  /**
   * Verifies the server and tables, ensures the publication and slot, then starts the initial snapshot (new slot,
   * or a snapshot that never completed) or streaming (slot and completed snapshot present). Returns once batches
   * are being produced.
   * @throws SourceError(SERVER_CONFIG | PUBLICATION_MISMATCH | TABLE_NOT_FOUND | NO_PRIMARY_KEY | REPLICA_IDENTITY | CONNECTION_LOST)
   */
  async start(): Promise<void> {
    if (this.#status !== 'idle') throw new SourceError(SourceErrorCode.NotRunning, 'start: a source starts once; create a new one to restart');
    const cfg = this.#cfg;
    const client = this.#client(false);
    let handedOver = false;
    try {
      await client.connect();
      await checkServer(client);
      const names = await ensurePublication(client, cfg.publication, cfg.tables, cfg.createPublication);
      for (const n of names) this.#tables.set(tableKey(n.schema, n.table), await describeTable(client, n.schema, n.table, cfg.toast));
      const state = await this.#state.load(cfg.slot);
      const slot = await findSlot(client, cfg.slot);
      if (slot && slot.plugin !== 'pgoutput') {
        throw new SourceError(SourceErrorCode.ServerConfig, `replication slot ${cfg.slot} uses plugin ${slot.plugin}, not pgoutput`);
      }
      if (slot && cfg.connection.database !== undefined && slot.database !== cfg.connection.database) {
        throw new SourceError(SourceErrorCode.ServerConfig, `replication slot ${cfg.slot} belongs to database ${slot.database}`);
      }
      if (slot && state?.snapshotCompleted) {
        this.#consistentPoint = state.consistentPoint;
        this.#flushed = parseLsn(slot.confirmedFlushLsn ?? state.consistentPoint);
        this.#status = 'running';
        await this.#openStream();
        return;
      }
      // No slot, or a slot whose snapshot never completed: streaming from it would miss the rest of the snapshot.
      if (slot) await dropSlot(client, cfg.slot, this.#now() + 10_000, this.#sleep, this.#now);
      await this.#state.delete(cfg.slot);
      const repl = this.#client(true);
      try {
        await repl.connect();
        const r = await repl.query<{ consistent_point: string; snapshot_name: string }>(
          `CREATE_REPLICATION_SLOT ${quoteIdent(cfg.slot)} LOGICAL pgoutput (SNAPSHOT 'export')`,
        );
        const row = r.rows[0];
        if (!row?.snapshot_name) throw new SourceError(SourceErrorCode.Protocol, 'CREATE_REPLICATION_SLOT returned no snapshot');
        this.#consistentPoint = row.consistent_point;
        this.#flushed = parseLsn(row.consistent_point);
        await this.#state.save({ slot: cfg.slot, snapshotCompleted: false, consistentPoint: row.consistent_point });
        this.#status = 'running';
        handedOver = true;
        this.#snapshotTask = this.#runSnapshot(client, repl, row.snapshot_name);
      } catch (e) {
        await repl.end().catch(() => undefined);
        throw e;
      }
    } catch (e) {
      this.#status = 'failed';
      throw _asSourceError(e, SourceErrorCode.ConnectionLost, 'start');
    } finally {
      if (!handedOver) await client.end().catch(() => undefined);
    }
  }

  /**
   * The batches, in order: the snapshot chunks (if any), then transactions in commit order, each split into
   * parts. One consumer. Ends after `stop()`; throws the SourceError that stopped the source, after handing out
   * what was read before it.
   * @throws SourceError
   */
  async *batches(): AsyncGenerator<ChangeBatch, void, undefined> {
    for (;;) {
      // After stop() nothing more is handed out: whatever is queued is redelivered by the next start.
      if (this.#status === 'stopped') return;
      // The read-ahead window also bounds what is in flight downstream: wait for acks before handing out more.
      const item = this.#delivered.length < this.#cfg.maxUnackedBatches || this.#ready[0]?.type === 'empty' ? this.#ready.shift() : undefined;
      if (item) {
        if (item.type === 'empty') {
          this.#deliverEmpty(item.endLsn);
          continue;
        }
        const b = item.batch;
        this.#delivered.push({
          rank: _rank(b.kind),
          kind: b.kind,
          commitLsn: parseLsn(b.commitLsn),
          part: b.part,
          last: b.last,
          endLsn: b.endLsn === null ? null : parseLsn(b.endLsn),
          auto: false,
        });
        this.#relieve();
        yield b;
        continue;
      }
      if (this.#error && this.#ready.length === 0) throw this.#error;
      if (this.#error && this.#delivered.length >= this.#cfg.maxUnackedBatches) throw this.#error;
      await this.#wake.wait();
    }
  }

  /**
   * Acknowledges a delivered batch and every batch before it (cumulative, like a JetStream ack floor). When the
   * acknowledged prefix ends a transaction, the slot is told it may confirm that transaction's end LSN; the
   * last snapshot chunk marks the snapshot completed in the state store. Repeating an ack is harmless.
   * @throws SourceError(INVALID_ACK) for a position that was never delivered.
   */
  ack(position: BatchPosition): Promise<void> {
    const run = this.#ackChain.then(() => this.#ack(position));
    this.#ackChain = run.catch(() => undefined);
    return run;
  }

  async #ack(position: BatchPosition): Promise<void> {
    let key: _Key;
    try {
      key = { lsn: parseLsn(position.commitLsn), rank: _rank(position.kind), part: position.part };
    } catch (e) {
      throw _asSourceError(e, SourceErrorCode.InvalidAck, 'ack');
    }
    const idx = this.#delivered.findIndex((d) => !d.auto && d.commitLsn === key.lsn && d.rank === key.rank && d.part === key.part);
    if (idx < 0) {
      if (!_after(key, this.#lastAcked)) return;
      throw new SourceError(SourceErrorCode.InvalidAck, `ack: ${position.kind} ${position.commitLsn} part ${position.part} was not delivered`);
    }
    const removed = this.#delivered.splice(0, idx + 1);
    while (this.#delivered[0]?.auto) removed.push(this.#delivered.shift()!);
    this.#lastAcked = key;
    let target = this.#flushed;
    let snapshotDone = false;
    for (const d of removed) {
      if (d.kind === 'snapshot' && d.last) snapshotDone = true;
      if (d.endLsn !== null && d.endLsn > target) target = d.endLsn;
    }
    this.#relieve();
    // Completed before any later position is confirmed: a crash in between re-snapshots, never streams on a half one.
    if (snapshotDone) await this.#state.save({ slot: this.#cfg.slot, snapshotCompleted: true, consistentPoint: this.#consistentPoint });
    if (target > this.#flushed) {
      this.#flushed = target;
      this.#sendStatus();
    }
  }

  /**
   * Stops reading and closes the connections after telling the slot the acknowledged position. Drops nothing:
   * batches not yet acknowledged are delivered again by the next start.
   */
  async stop(): Promise<void> {
    if (this.#status === 'stopped') return;
    this.#status = 'stopped';
    if (this.#statusTimer) clearInterval(this.#statusTimer);
    this.#statusTimer = null;
    this.#sendStatus();
    const stream = this.#stream;
    this.#stream = null;
    await stream?.close();
    this.#wakeAll();
    await this.#snapshotTask;
    await this.#reconnecting;
  }

  /**
   * Stops, then drops the replication slot (and the publication with `{ publication: true }`) and forgets the
   * state: for tests and decommissioning. WAL retained for the slot is released.
   * @throws SourceError(CONNECTION_LOST) when the slot stays in use by another connection.
   */
  async drop(options: { publication?: boolean } = {}): Promise<void> {
    await this.stop();
    const client = this.#client(false);
    try {
      await client.connect();
      await dropSlot(client, this.#cfg.slot, this.#now() + 10_000, this.#sleep, this.#now);
      if (options.publication) await client.query(`DROP PUBLICATION IF EXISTS ${quoteIdent(this.#cfg.publication)}`);
      await this.#state.delete(this.#cfg.slot);
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  #client(replication: boolean): pg.Client {
    const c = this.#createClient({ ...this.#cfg.connection, ...(replication ? { replication: 'database' } : {}) });
    // An idle client that loses its server emits 'error'; without a listener that would crash the process.
    c.on('error', () => undefined);
    return c;
  }

  async #runSnapshot(client: pg.Client, repl: pg.Client, snapshotName: string): Promise<void> {
    let held: RowChange[] | null = null;
    let part = 0;
    let replOpen = true;
    const closeRepl = async (): Promise<void> => {
      if (!replOpen) return;
      replOpen = false;
      await repl.end().catch(() => undefined);
    };
    const push = async (changes: RowChange[], last: boolean): Promise<void> => {
      await this.#waitForRoom();
      if (this.#status !== 'running') return;
      this.#enqueue({
        type: 'batch',
        batch: { kind: 'snapshot', xid: null, commitLsn: this.#consistentPoint, endLsn: null, commitTimeMicros: null, part: part++, last, changes },
      });
    };
    try {
      // One chunk is held back so the final one can say `last: true`.
      await readSnapshot(client, snapshotName, [...this.#tables.values()], {
        maxChanges: this.#cfg.maxChanges,
        maxBytes: this.#cfg.maxBytes,
        onImported: closeRepl,
        onChunk: async (changes) => {
          if (held) await push(held, false);
          held = changes;
        },
        stopped: () => this.#status !== 'running',
      });
      if (this.#status !== 'running') return;
      await push(held ?? [], true);
      await client.end().catch(() => undefined);
      if (this.#status === 'running') await this.#openStream();
    } catch (e) {
      this.#fail(_asSourceError(e, SourceErrorCode.SnapshotFailed, `snapshot of slot ${this.#cfg.slot}`));
    } finally {
      await closeRepl();
      await client.end().catch(() => undefined);
    }
  }

  async #openStream(): Promise<void> {
    const client = this.#client(true);
    try {
      await client.connect();
    } catch (e) {
      await client.end().catch(() => undefined);
      throw _asSourceError(e, SourceErrorCode.ConnectionLost, 'replication connection');
    }
    this.#assembler.reset();
    const stream = await ReplicationStream.start(client, this.#cfg.slot, this.#cfg.publication, this.#flushed, {
      onChunk: (chunk) => this.#onChunk(chunk),
      onEnd: (error) => this.#onStreamEnd(stream, error),
    });
    if (this.#status !== 'running') {
      await stream.close();
      return;
    }
    this.#stream = stream;
    if (this.#full()) stream.pause();
    if (!this.#statusTimer) {
      this.#statusTimer = setInterval(() => this.#sendStatus(), this.#cfg.statusIntervalMs);
      this.#statusTimer.unref();
    }
  }

  #onChunk(chunk: Buffer): void {
    if (this.#status !== 'running') return;
    try {
      const w = parseWireMessage(chunk);
      if (w.tag === 'keepalive') {
        // Idle (nothing queued, delivered or half-read): every commit before walEnd was sent and acknowledged, so
        // the slot may move up to it; otherwise WAL of other databases would pile up behind an idle slot.
        const idle = this.#ready.length === 0 && this.#delivered.length === 0 && !this.#assembler.inTransaction;
        if (idle && w.walEnd > this.#flushed) {
          this.#flushed = w.walEnd;
          this.#sendStatus();
        } else if (w.replyRequested) {
          this.#sendStatus();
        }
        return;
      }
      this.#assembler.handle(decodePgOutput(chunk, XLOGDATA_HEADER));
      if (this.#full()) this.#stream?.pause();
    } catch (e) {
      this.#fail(_asSourceError(e, SourceErrorCode.Protocol, 'replication stream'));
    }
  }

  #onStreamEnd(stream: ReplicationStream, error: Error | null): void {
    if (this.#stream === stream) this.#stream = null;
    if (this.#status !== 'running' || error === null) return;
    this.#reconnecting = this.#reconnect(error);
  }

  async #reconnect(cause: Error): Promise<void> {
    let delay = 100;
    let last: unknown = cause;
    for (let i = 0; i < this.#cfg.reconnectAttempts; i++) {
      await this.#sleep(delay);
      delay = Math.min(delay * 2, 5000);
      if (this.#status !== 'running') return;
      try {
        // From the confirmed position: Postgres resends what was not acknowledged; #enqueue skips what we already hold.
        await this.#openStream();
        return;
      } catch (e) {
        last = e;
      }
    }
    this.#fail(
      new SourceError(SourceErrorCode.ConnectionLost, `replication slot ${this.#cfg.slot}: stream lost (${cause.message}), ${this.#cfg.reconnectAttempts} reconnects failed`, {
        cause: last,
      }),
    );
  }

  #enqueue(item: AssembledItem): void {
    const key: _Key =
      item.type === 'empty'
        ? { lsn: item.commitLsn, rank: 1, part: 0 }
        : { lsn: parseLsn(item.batch.commitLsn), rank: _rank(item.batch.kind), part: item.batch.part };
    // After a reconnect the server resends from the confirmed position: skip what is already queued or delivered.
    if (!_after(key, this.#lastEnqueued)) return;
    this.#lastEnqueued = key;
    this.#ready.push(item);
    this.#wake.notify();
  }

  #deliverEmpty(endLsn: bigint): void {
    if (this.#delivered.length > 0) {
      this.#delivered.push({ rank: 1, kind: 'transaction', commitLsn: 0n, part: 0, last: true, endLsn, auto: true });
    } else if (endLsn > this.#flushed) {
      // Nothing outstanding before it: a transaction with no captured change may be confirmed at once.
      this.#flushed = endLsn;
    }
  }

  #full(): boolean {
    return this.#ready.length + this.#delivered.length >= this.#cfg.maxUnackedBatches;
  }

  #waitForRoom(): Promise<void> {
    if (!this.#full() || this.#status !== 'running') return Promise.resolve();
    return new Promise((resolve) => this.#roomWaiters.push(resolve));
  }

  #relieve(): void {
    if (this.#delivered.length < this.#cfg.maxUnackedBatches) this.#wake.notify();
    if (this.#full()) return;
    this.#stream?.resume();
    const waiters = this.#roomWaiters;
    this.#roomWaiters = [];
    for (const w of waiters) w();
  }

  #wakeAll(): void {
    this.#wake.notify();
    const waiters = this.#roomWaiters;
    this.#roomWaiters = [];
    for (const w of waiters) w();
  }

  #sendStatus(): void {
    try {
      this.#stream?.send(standbyStatus(this.#flushed, this.#now()));
    } catch {
      // A broken socket is reported through the stream's end; the next status carries the same position.
    }
  }

  #fail(error: SourceError): void {
    if (this.#error || this.#status !== 'running') return;
    this.#error = error;
    this.#status = 'failed';
    if (this.#statusTimer) clearInterval(this.#statusTimer);
    this.#statusTimer = null;
    const stream = this.#stream;
    this.#stream = null;
    void stream?.close();
    this.#wakeAll();
  }
}
