// The backend side of one proxied session after startup: every message sent to the backend that produces a
// response pushes a "unit" onto a FIFO, and the backend's responses are routed to the unit at the head — client
// units are forwarded to the client byte for byte, proxy units (the capture's own queries) are consumed here.
// PostgreSQL answers messages strictly in order, and after an error in the extended protocol it skips everything
// up to the next Sync: the channel mirrors that, so the two sides never get out of step.
import { BackendType, type Frame, readCommandTag, readDataRowText, readFields } from '@merklesync/pgwire';

/** What a unit waits for. */
export type UnitKind = 'query' | 'sync' | 'parse' | 'bind' | 'describe' | 'execute' | 'close' | 'capture';

/** One pending response. */
export interface Unit {
  readonly kind: UnitKind;
  readonly owner: 'client' | 'proxy';
  /** Hold the ReadyForQuery that ends this unit instead of forwarding it (the proxy releases it later). */
  hold?: boolean;
  /** Ends at the second CloseComplete (capture units without Sync) instead of ReadyForQuery. */
  readonly flushMode?: boolean;
  /** Filled while routing. */
  error?: Map<string, string>;
  tags: string[];
  rows: (string | null)[][];
  status?: string;
  heldReady?: Buffer;
  closes: number;
  copyOut?: boolean;
  readonly done: Promise<void>;
  resolve: () => void;
}

export function newUnit(kind: UnitKind, owner: 'client' | 'proxy', opts: { hold?: boolean; flushMode?: boolean } = {}): Unit {
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  return { kind, owner, tags: [], rows: [], closes: 0, done, resolve, ...opts };
}

/**
 * Routes backend frames to units.
 * @example channel.push(unit); backendSocket.write(bytes); … channel.route(frame)
 */
export class BackendChannel {
  readonly units: Unit[] = [];
  /** Transaction status of the last ReadyForQuery: I idle, T in a transaction block, E failed block. */
  txStatus = 'I';
  /** The backend skips extended-protocol messages until the next Sync (after an error). */
  #skipping = false;
  readonly #toClient: (b: Buffer) => void;

  constructor(toClient: (b: Buffer) => void) {
    this.#toClient = toClient;
  }

  /**
   * Queues a unit. While the backend skips to the next Sync (an extended-protocol error arrived), it discards what
   * this unit stands for and will never answer it: an extended-protocol unit (the client's, or a capture ending in
   * Flush) completes at once with 25P02, as the units queued before the error did; a unit that ends in a Sync or a
   * simple Query stays (the backend answers that), a capture one marked failed.
   */
  push(u: Unit): void {
    if (this.#skipping) {
      const skipped = () => new Map([['C', '25P02'], ['M', 'skipped after an earlier error']]);
      if (u.kind === 'capture') u.error ??= skipped();
      if (u.kind !== 'sync' && u.kind !== 'query' && !(u.kind === 'capture' && !u.flushMode)) {
        u.error ??= skipped();
        u.resolve();
        return;
      }
    }
    this.units.push(u);
  }

  #complete(u: Unit): void {
    this.units.shift();
    u.resolve();
  }

  /** After an extended-protocol error, the backend answers nothing until the Sync: complete those units silently. */
  #skipToSync(): void {
    this.#skipping = true;
    while (this.units.length > 0) {
      const u = this.units[0]!;
      if (u.kind === 'sync' || u.kind === 'query' || (u.kind === 'capture' && !u.flushMode)) break;
      u.error ??= new Map([['C', '25P02'], ['M', 'skipped after an earlier error']]);
      this.#complete(u);
    }
  }

  route(f: Frame): void {
    const t = f.type;
    // Asynchronous messages may arrive at any time.
    if (t === BackendType.NoticeResponse || t === BackendType.NotificationResponse || t === BackendType.ParameterStatus) {
      const head = this.units[0];
      if (!head || head.owner === 'client' || t !== BackendType.NoticeResponse) this.#toClient(f.raw);
      return;
    }
    const u = this.units[0];
    if (!u) {
      // Nothing expected (e.g. a FATAL before the backend closes): the client should see it.
      this.#toClient(f.raw);
      return;
    }
    if (t === BackendType.ReadyForQuery) {
      this.txStatus = String.fromCharCode(f.body[0] ?? 0x49);
      this.#skipping = false;
      u.status = this.txStatus;
      if (u.owner === 'client') {
        if (u.hold) u.heldReady = Buffer.from(f.raw);
        else this.#toClient(f.raw);
      }
      this.#complete(u);
      return;
    }
    if (u.owner === 'client') this.#toClient(f.raw);
    switch (t) {
      case BackendType.ErrorResponse:
        u.error ??= readFields(f.body);
        if (u.owner === 'proxy' && u.flushMode) {
          // The client still expects answers to what it sent; let it see the failure instead of silence.
          this.#toClient(f.raw);
          this.#complete(u);
          this.#skipToSync();
          return;
        }
        if (u.kind !== 'query' && u.kind !== 'sync' && u.kind !== 'capture') {
          this.#complete(u);
          this.#skipToSync();
        }
        return;
      case BackendType.CommandComplete:
        u.tags.push(readCommandTag(f.body));
        if (u.kind === 'execute') this.#complete(u);
        return;
      case BackendType.EmptyQueryResponse:
        u.tags.push('');
        if (u.kind === 'execute') this.#complete(u);
        return;
      case BackendType.PortalSuspended:
        if (u.kind === 'execute') this.#complete(u);
        return;
      case BackendType.DataRow:
        if (u.owner === 'proxy') u.rows.push(readDataRowText(f.body));
        return;
      case BackendType.ParseComplete:
        if (u.kind === 'parse') this.#complete(u);
        return;
      case BackendType.BindComplete:
        if (u.kind === 'bind') this.#complete(u);
        return;
      case BackendType.CloseComplete:
        u.closes++;
        if (u.kind === 'close' || (u.kind === 'capture' && u.flushMode && u.closes === 2)) this.#complete(u);
        return;
      case BackendType.RowDescription:
      case BackendType.NoData:
        if (u.kind === 'describe') this.#complete(u);
        return;
      default:
        // ParameterDescription, Copy*, FunctionCallResponse: forwarded above (client units); nothing ends here.
        return;
    }
  }

  /** Fails every pending unit (backend gone). */
  abort(): void {
    for (const u of this.units.splice(0)) {
      u.error ??= new Map([['C', '08006'], ['M', 'backend connection lost']]);
      u.resolve();
    }
  }

  get skipping(): boolean {
    return this.#skipping;
  }
}
