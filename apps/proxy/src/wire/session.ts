// One client connection: the startup phase (SSL/GSS requests answered "N", cancel requests forwarded, the
// startup packet and the whole authentication exchange passed through to the backend — trust, cleartext, md5
// and SCRAM-SHA-256 are the backend's business), then the message loop. Messages that need no capture take the
// fast path (forwarded as they come); writing statements and transaction ends take the capture path.
import { type Socket, connect } from 'node:net';
import {
  FrameReader,
  FrontendType,
  NO_ENCRYPTION,
  PgWireError,
  StartupCode,
  errorResponse,
  isFrontendType,
  paramFormat,
  readBind,
  readExecute,
  readParse,
  readQuery,
  readStartup,
  readTarget,
  type BindMessage,
  type Frame,
} from '@merklesync/pgwire';
import { type StatementInfo, SqlAnalysisError, analyzeSql, needsAnalysis, nondeterminismWarnings } from '@merklesync/sql-analysis';
import { type RecordedStatement, type SqlParam, TableCatalog, type TxCapture } from '@merklesync/state-capture';
import { ProxyErrorCode, sqlstateOf } from '../errors.ts';
import { BackendChannel, type Unit, type UnitKind, newUnit } from './backend-channel.ts';
import { WireRunner } from './wire-runner.ts';

/** What a session needs from the rest of the proxy (capture, records, metrics, logs). */
export interface SessionHost {
  readonly backend: { readonly host: string; readonly port: number };
  readonly maxMessageBytes: number;
  readonly captureEnabled: boolean;
  newCapture(catalog: TableCatalog): TxCapture;
  /** A transaction committed: build, seal and publish its record (asynchronously). */
  committed(tx: OpenTransaction): void;
  /** Non-determinism and capture warnings of one statement (logged and counted even without capture). */
  warned(warnings: readonly string[]): void;
  log(level: 'log' | 'warn' | 'error', message: string): void;
  count(metric: 'malformed' | 'capture_failed' | 'statements' | 'transactions_captured'): void;
}

/** A transaction the session is capturing. */
export interface OpenTransaction {
  readonly capture: TxCapture;
  readonly statements: RecordedStatement[];
  readonly warnings: string[];
  searchPath: string;
  writes: boolean;
  /** Capture failed or saw something it cannot follow: the record says so in its warnings. */
  failed: boolean;
  finished: boolean;
}

interface _Stmt {
  readonly sql: string;
  readonly paramTypes: number[];
  readonly infos: readonly StatementInfo[] | null;
}

interface _Portal {
  readonly stmt: _Stmt;
  readonly bind: BindMessage;
}

const _isWrite = (i: StatementInfo): boolean => i.kind === 'insert' || i.kind === 'update' || i.kind === 'delete' || i.writes;

export class Session {
  readonly #client: Socket;
  readonly #host: SessionHost;
  #backend: Socket | undefined;
  readonly #clientReader: FrameReader;
  readonly #backendReader: FrameReader;
  #phase: 'startup' | 'auth' | 'ready' | 'closing' = 'startup';
  readonly #channel: BackendChannel;
  readonly #runner: WireRunner;
  readonly #catalog = new TableCatalog();
  readonly #stmts = new Map<string, _Stmt>();
  readonly #portals = new Map<string, _Portal>();
  readonly #queue: Frame[] = [];
  #pumping = false;
  #tx: OpenTransaction | undefined;
  #searchPath: string | undefined;
  /** Extended-protocol statements executed since the last Sync, for the record. */
  #pendingExtended: { index: number; unit: Unit }[] = [];
  /** The client sent extended-protocol messages and no Sync yet (its implicit transaction is open). */
  #midPipeline = false;
  /** The extended-protocol batch since the last Sync executed a transaction-control statement. */
  #batchTxControl = false;
  readonly #closed: Promise<void>;
  #resolveClosed!: () => void;

  constructor(client: Socket, host: SessionHost) {
    this.#client = client;
    this.#host = host;
    this.#clientReader = new FrameReader(host.maxMessageBytes);
    this.#backendReader = new FrameReader(host.maxMessageBytes);
    this.#channel = new BackendChannel((b) => this.#toClient(b));
    this.#runner = new WireRunner(this.#channel, (b) => this.#toBackend(b), () => this.#midPipeline);
    this.#closed = new Promise((r) => (this.#resolveClosed = r));
    client.setNoDelay(true);
    client.on('data', (chunk: Buffer) => this.#onClientData(chunk));
    client.on('error', () => this.#close());
    client.on('close', () => this.#close());
  }

  /** Resolves when both sockets are closed. */
  get closed(): Promise<void> {
    return this.#closed;
  }

  /** Ends the session (proxy shutdown). */
  shutdown(): void {
    this.#fatal('57P01', 'terminating connection due to proxy shutdown');
  }

  #toClient(b: Buffer): void {
    if (this.#client.destroyed) return;
    if (!this.#client.write(b)) {
      this.#backend?.pause();
      this.#client.once('drain', () => this.#backend?.resume());
    }
  }

  #toBackend(b: Buffer): void {
    const be = this.#backend;
    if (!be || be.destroyed) return;
    if (!be.write(b)) {
      this.#client.pause();
      be.once('drain', () => this.#client.resume());
    }
  }

  #close(): void {
    this.#phase = 'closing';
    this.#channel.abort();
    this.#client.destroy();
    this.#backend?.destroy();
    this.#resolveClosed();
  }

  /** Sends an ErrorResponse of our own and closes (protocol violations, backend failures). */
  #fatal(sqlstate: string, message: string): void {
    if (this.#phase === 'closing') return;
    this.#phase = 'closing';
    this.#backend?.destroy();
    if (!this.#client.destroyed) this.#client.end(errorResponse(sqlstate, message, 'FATAL'));
    this.#channel.abort();
    this.#client.once('close', () => this.#resolveClosed());
    setTimeout(() => this.#close(), 1000).unref();
  }

  #violation(e: unknown): void {
    this.#host.count('malformed');
    const msg = e instanceof Error ? e.message : String(e);
    this.#host.log('warn', `protocol violation from ${this.#client.remoteAddress ?? '?'}: ${msg}`);
    this.#fatal(sqlstateOf(ProxyErrorCode.ProtocolViolation), `protocol violation: ${msg}`);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Client bytes.

  #onClientData(chunk: Buffer): void {
    if (this.#phase === 'closing') return;
    this.#clientReader.push(chunk);
    try {
      for (;;) {
        const f = this.#clientReader.next(this.#phase === 'startup');
        if (!f) break;
        if (this.#phase === 'startup') this.#onStartup(f);
        else if (this.#phase === 'auth') this.#toBackend(f.raw);
        else if (this.#phase === 'ready') {
          if (!isFrontendType(f.type)) throw new PgWireError('UNEXPECTED_MESSAGE', `unknown message type 0x${f.type.toString(16)}`);
          // COPY FROM STDIN data follows a Query/Execute that is already with the backend (the message loop may be
          // waiting for that very statement): it goes straight through.
          if (f.type === FrontendType.CopyData || f.type === FrontendType.CopyDone || f.type === FrontendType.CopyFail) this.#toBackend(f.raw);
          else this.#queue.push(f);
        } else return;
      }
    } catch (e) {
      this.#violation(e);
      return;
    }
    if (this.#queue.length > 0) this.#pump();
    // Backpressure: stop reading while the capture path has a backlog.
    if (this.#queue.length > 1024) this.#client.pause();
  }

  #onStartup(f: Frame): void {
    const code = f.body.readUInt32BE(0);
    if (code === StartupCode.Ssl || code === StartupCode.GssEnc) {
      if (f.body.length !== 4) throw new PgWireError('MALFORMED', 'SSLRequest/GSSENCRequest must be 8 bytes');
      this.#client.write(NO_ENCRYPTION);
      return;
    }
    if (code === StartupCode.Cancel) {
      if (f.body.length < 12) throw new PgWireError('MALFORMED', 'CancelRequest too short');
      // The backend's own BackendKeyData went to the client unchanged, so the request is valid as is.
      const c = connect(this.#host.backend.port, this.#host.backend.host, () => c.end(f.raw));
      c.on('error', () => c.destroy());
      this.#phase = 'closing';
      this.#client.end();
      return;
    }
    if (code >>> 16 !== 3) throw new PgWireError('UNSUPPORTED_PROTOCOL', `unsupported frontend protocol ${code >>> 16}.${code & 0xffff}: server supports 3.0`);
    readStartup(f.body); // validates: terminators, a user parameter
    this.#phase = 'auth';
    this.#client.pause();
    const be = connect({ host: this.#host.backend.host, port: this.#host.backend.port, noDelay: true });
    this.#backend = be;
    be.on('connect', () => {
      be.write(f.raw);
      this.#client.resume();
    });
    be.on('data', (chunk: Buffer) => this.#onBackendData(chunk));
    be.on('error', (e) => {
      if (this.#phase === 'auth' && !this.#client.destroyed) this.#fatal('08006', `proxy cannot reach the database: ${e.message}`);
      else this.#close();
    });
    be.on('close', () => {
      if (this.#phase !== 'closing') {
        // Flush what the backend said last (e.g. a FATAL) before closing the client.
        this.#phase = 'closing';
        this.#channel.abort();
        this.#client.end();
        this.#client.once('close', () => this.#resolveClosed());
      }
    });
  }

  #onBackendData(chunk: Buffer): void {
    this.#backendReader.push(chunk);
    try {
      for (;;) {
        const f = this.#backendReader.next(false);
        if (!f) break;
        if (this.#phase === 'auth') {
          this.#toClient(f.raw);
          if (f.type === 0x5a) {
            this.#channel.txStatus = String.fromCharCode(f.body[0] ?? 0x49);
            this.#phase = 'ready';
          }
        } else if (this.#phase === 'ready') {
          this.#channel.route(f);
        }
      }
    } catch (e) {
      this.#host.log('error', `backend sent an unreadable message: ${e instanceof Error ? e.message : String(e)}`);
      this.#fatal('08P01', 'proxy: unreadable message from the database');
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  // The message loop. Frames are handled in order; a handler that needs the backend's answer first (capture)
  // returns a promise and the loop waits for it.

  #pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    void this.#drain();
  }

  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0 && this.#phase === 'ready') {
        const f = this.#queue.shift()!;
        const p = this.#handle(f);
        if (p) await p;
        if (this.#queue.length < 256 && this.#client.isPaused()) this.#client.resume();
      }
    } catch (e) {
      if (e instanceof PgWireError) this.#violation(e);
      else {
        this.#host.log('error', `session failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
        this.#fatal('XX000', 'proxy internal error');
      }
    } finally {
      this.#pumping = false;
    }
  }

  #send(f: Frame, kind: UnitKind | null, opts: { hold?: boolean } = {}): Unit | undefined {
    let u: Unit | undefined;
    if (kind) {
      u = newUnit(kind, 'client', opts);
      this.#channel.push(u);
    }
    this.#toBackend(f.raw);
    return u;
  }

  #handle(f: Frame): Promise<void> | undefined {
    const t = f.type;
    if (t === FrontendType.Parse || t === FrontendType.Bind || t === FrontendType.Describe || t === FrontendType.Execute || t === FrontendType.Close || t === FrontendType.Flush) {
      this.#midPipeline = true;
    }
    switch (t) {
      case FrontendType.Query:
        this.#midPipeline = false;
        return this.#onQuery(f, readQuery(f.body));
      case FrontendType.Parse: {
        const p = readParse(f.body);
        this.#stmts.set(p.name, { sql: p.sql, paramTypes: p.paramTypes, infos: this.#analyze(p.sql, true) });
        this.#send(f, 'parse');
        return undefined;
      }
      case FrontendType.Bind: {
        const b = readBind(f.body);
        const stmt = this.#stmts.get(b.statement);
        if (stmt) this.#portals.set(b.portal, { stmt, bind: b });
        this.#send(f, 'bind');
        return undefined;
      }
      case FrontendType.Describe:
        readTarget(f.body, 'Describe');
        this.#send(f, 'describe');
        return undefined;
      case FrontendType.Close: {
        const t = readTarget(f.body, 'Close');
        if (t.kind === 'S') this.#stmts.delete(t.name);
        else this.#portals.delete(t.name);
        this.#send(f, 'close');
        return undefined;
      }
      case FrontendType.Execute:
        return this.#onExecute(f);
      case FrontendType.Sync:
        // #onSync may still read the post-state inside the client's implicit transaction (mid-pipeline).
        return this.#onSync(f);
      case FrontendType.Flush:
      case FrontendType.CopyData:
      case FrontendType.CopyDone:
      case FrontendType.CopyFail:
      case FrontendType.Password:
        this.#send(f, null);
        return undefined;
      case FrontendType.FunctionCall:
        this.#send(f, 'query');
        return undefined;
      case FrontendType.Terminate:
        this.#phase = 'closing';
        this.#toBackend(f.raw);
        this.#backend?.end();
        this.#client.end();
        this.#client.once('close', () => this.#resolveClosed());
        return undefined;
      default:
        throw new PgWireError('UNEXPECTED_MESSAGE', `unexpected message type 0x${f.type.toString(16)}`);
    }
  }

  #analyze(sql: string, cache: boolean): readonly StatementInfo[] | null {
    try {
      const infos = analyzeSql(sql, { cache });
      let i = 0;
      for (const info of infos) {
        i++;
        if (info.nondeterministic.length > 0 || info.captureLimits.length > 0) this.#host.warned(nondeterminismWarnings(info, i));
        // DDL may change tables the catalog cache describes.
        if (info.kind === 'other' && !info.tx) {
          this.#catalog.clear();
          this.#searchPath = undefined;
        }
      }
      return infos;
    } catch (e) {
      // Text PostgreSQL will reject: forward it anyway and let the backend say so.
      if (e instanceof SqlAnalysisError) return null;
      throw e;
    }
  }

  /** Whether a statement batch needs the capture path. */
  #needsCapture(infos: readonly StatementInfo[] | null): boolean {
    if (!this.#host.captureEnabled) return false;
    if (this.#tx !== undefined || this.#channel.txStatus !== 'I') return true;
    return infos !== null && infos.some((i) => _isWrite(i) || i.tx === 'begin');
  }

  #openTx(): OpenTransaction {
    this.#tx ??= { capture: this.#host.newCapture(this.#catalog), statements: [], warnings: [], searchPath: '', writes: false, failed: false, finished: false };
    return this.#tx;
  }

  async #searchPathOf(): Promise<string> {
    this.#searchPath ??= (await this.#runner.run("SELECT current_setting('search_path')", []))[0]?.[0] ?? 'public';
    return this.#searchPath;
  }

  /** Pre-state capture of one writing statement (errors mark the transaction failed, never the session). */
  async #before(tx: OpenTransaction, info: StatementInfo, params: SqlParam[]): Promise<void> {
    if (!_isWrite(info) || tx.failed || this.#channel.txStatus === 'E') return;
    tx.writes = true;
    try {
      if (tx.searchPath === '') tx.searchPath = await this.#searchPathOf();
      // Inside the client's transaction (explicit, or the implicit one of an unsynced extended batch) the capture's
      // reads share its transaction timestamp: record it so replay can pin now().
      if (this.#channel.txStatus === 'T' || this.#midPipeline) tx.capture.pinTimestamp(this.#runner);
      await tx.capture.before(this.#runner, info, params);
    } catch (e) {
      this.#captureFailed(tx, e);
    }
  }

  #captureFailed(tx: OpenTransaction, e: unknown): void {
    tx.failed = true;
    this.#host.count('capture_failed');
    const msg = `capture failed: ${e instanceof Error ? e.message : String(e)}`;
    tx.warnings.push(msg.slice(0, 1000));
    this.#host.log('warn', msg);
  }

  /**
   * Reads the post-state. When nothing is in flight, the reads are on their way when this returns, so the caller
   * may send the COMMIT right behind them (no extra round trip).
   */
  #finish(tx: OpenTransaction): Promise<void> {
    if (tx.finished) return Promise.resolve();
    tx.finished = true;
    if (!tx.writes || tx.failed) return Promise.resolve();
    return tx.capture.finish(this.#runner).catch((e: unknown) => this.#captureFailed(tx, e));
  }

  /** The transaction ended (ReadyForQuery 'I'): publish it if it committed. */
  #ended(committed: boolean): void {
    const tx = this.#tx;
    this.#tx = undefined;
    if (!tx || !committed || !tx.writes) return;
    this.#host.count('transactions_captured');
    this.#host.committed(tx);
  }

  // Simple query protocol ----------------------------------------------------------------------------------

  async #onQuery(f: Frame, sql: string): Promise<void> {
    // Outside transactions a plain read that cannot warn skips the parser (the hot path of read traffic).
    // Simple-protocol text usually carries its literals: caching it would only churn the heap.
    const infos = this.#tx === undefined && this.#channel.txStatus === 'I' && !needsAnalysis(sql) ? [] : this.#analyze(sql, false);
    this.#host.count('statements');
    if (!this.#needsCapture(infos)) {
      this.#send(f, 'query');
      return;
    }
    const list = infos ?? [];
    const onlyCommit = list.length === 1 && (list[0]!.tx === 'commit' || list[0]!.tx === 'prepare');
    const hasWrite = list.some(_isWrite);
    const tx = this.#tx ?? (hasWrite || list.some((i) => i.tx === 'begin') || this.#channel.txStatus === 'T' ? this.#openTx() : undefined);
    if (tx) for (const info of list) await this.#before(tx, info, []);
    // Post-state inside the transaction, read just before it commits (pipelined with the COMMIT).
    const post = tx && onlyCommit && this.#channel.txStatus === 'T' ? this.#finish(tx) : undefined;
    const u = this.#send(f, 'query', { hold: tx !== undefined })!;
    await post;
    await u.done;
    if (tx) {
      // Statements that ran: those before the error (each completed statement sent one CommandComplete).
      const ran = u.error ? u.tags.length + 1 : list.length;
      list.slice(0, ran).forEach((info, i) => {
        if (info.tx === 'begin' || info.tx === 'commit') return;
        const failed = u.error && i === ran - 1 ? (u.error.get('C') ?? 'XX000') : undefined;
        tx.statements.push({ sql: info.text, params: [], ...(failed ? { error: failed } : {}) });
      });
      if (infos === null) tx.statements.push({ sql, params: [], error: u.error?.get('C') ?? 'XX000' });
      await this.#afterUnit(tx, u, u.error === undefined && (u.tags.at(-1) ?? '') !== 'ROLLBACK');
    }
  }

  /** After a unit that ended with ReadyForQuery: finish (autocommit) and publish, then release the held ReadyForQuery. */
  async #afterUnit(tx: OpenTransaction, u: Unit, ok: boolean): Promise<void> {
    try {
      if (u.status === 'I') {
        // Autocommit / implicit transaction: it has committed (or failed) already; the post-state is read now.
        if (ok && !tx.finished) await this.#finish(tx);
        this.#ended(ok);
      } else if (u.status === 'E') {
        tx.failed = tx.failed || false;
      }
    } finally {
      if (u.heldReady) this.#toClient(u.heldReady);
    }
  }

  // Extended query protocol ---------------------------------------------------------------------------------

  async #onExecute(f: Frame): Promise<void> {
    const { portal: name } = readExecute(f.body);
    const portal = this.#portals.get(name);
    const infos = portal?.stmt.infos ?? null;
    this.#host.count('statements');
    if (!this.#needsCapture(infos)) {
      this.#send(f, 'execute');
      return;
    }
    const info = infos?.[0];
    if (info?.tx !== undefined) this.#batchTxControl = true;
    const tx = this.#tx ?? (info && (_isWrite(info) || info.tx === 'begin' || this.#channel.txStatus === 'T') ? this.#openTx() : undefined);
    const params: SqlParam[] = portal
      ? portal.bind.params.map((p, i) => {
          const format = paramFormat(portal.bind.paramFormats, i) === 1 ? 1 : 0;
          return { value: p === null ? null : format === 0 ? p.toString('utf8') : Uint8Array.from(p), format, type: portal.stmt.paramTypes[i] ?? 0 };
        })
      : [];
    let post: Promise<void> | undefined;
    if (tx && info) {
      await this.#before(tx, info, params);
      if ((info.tx === 'commit' || info.tx === 'prepare') && this.#channel.txStatus === 'T') post = this.#finish(tx);
    }
    const u = this.#send(f, 'execute')!;
    await post;
    if (tx && info && info.tx !== 'begin' && info.tx !== 'commit') {
      const index = tx.statements.length;
      tx.statements.push({ sql: info.text, params: params.map((p) => ({ v: p.value === null ? null : typeof p.value === 'string' ? p.value : Buffer.from(p.value).toString('base64'), f: p.format, t: p.type })) });
      this.#pendingExtended.push({ index, unit: u });
    } else if (tx && !info && portal) {
      tx.statements.push({ sql: portal.stmt.sql, params: [], error: 'XX000' });
    }
  }

  async #onSync(f: Frame): Promise<void> {
    const tx = this.#tx;
    const implicitTx = this.#channel.txStatus === 'I' && !this.#batchTxControl;
    this.#batchTxControl = false;
    if (!tx) {
      this.#midPipeline = false;
      this.#send(f, 'sync');
      return;
    }
    // Extended-protocol autocommit: the implicit transaction commits at this Sync. Read the post-state inside it,
    // just before the Sync (once the pre-state reads have answered), so no other session can slip in between.
    let post: Promise<void> | undefined;
    if (implicitTx && tx.writes && !tx.failed && !tx.finished) {
      await tx.capture.settle().catch((e: unknown) => this.#captureFailed(tx, e));
      // A statement of the batch already failed: the implicit transaction rolls back at this Sync and the backend
      // ignores everything before it, so there is no post-state to read.
      if (!this.#channel.skipping && !this.#pendingExtended.some((p) => p.unit.error !== undefined)) post = this.#finish(tx);
    }
    this.#midPipeline = false;
    const u = this.#send(f, 'sync', { hold: true })!;
    await post;
    await u.done;
    let ok = true;
    const skipped = new Set<number>();
    for (const { index, unit } of this.#pendingExtended.splice(0)) {
      const s = tx.statements[index];
      // After the first error the backend skipped everything up to the Sync: those never ran.
      if (!ok) skipped.add(index);
      else if (s && unit.error) {
        ok = false;
        tx.statements[index] = { ...s, error: unit.error.get('C') ?? 'XX000' };
      }
      if (unit.tags.at(-1) === 'ROLLBACK') ok = false;
    }
    if (skipped.size > 0) {
      const kept = tx.statements.filter((_, i) => !skipped.has(i));
      tx.statements.splice(0, tx.statements.length, ...kept);
    }
    await this.#afterUnit(tx, u, ok);
  }
}
