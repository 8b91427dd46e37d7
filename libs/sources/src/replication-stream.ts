import type pg from 'pg';
import { SourceError, SourceErrorCode } from './errors.ts';
import { formatLsn } from './lsn.ts';
import { quoteIdent, quoteLiteral } from './sql.ts';

/** The parts of node-postgres' connection that CopyBoth streaming needs (not in its public typings). */
interface _CopyBothConnection {
  on(event: 'copyData', listener: (msg: { chunk: Buffer }) => void): void;
  once(event: 'replicationStart', listener: () => void): void;
  sendCopyFromChunk(chunk: Buffer): void;
  stream: { pause(): void; resume(): void };
}

export interface StreamHandlers {
  onChunk(chunk: Buffer): void;
  /** The stream ended: `null` after `close()`, the error otherwise. Called once. */
  onEnd(error: Error | null): void;
}

/**
 * One START_REPLICATION session on a replication connection, in CopyBoth mode. node-postgres parses the
 * CopyBothResponse ('replicationStart') and CopyData frames; we listen on its connection directly, as
 * pg-logical-replication does, and pause its socket for backpressure.
 */
export class ReplicationStream {
  readonly #client: pg.Client;
  readonly #conn: _CopyBothConnection;
  #closing = false;
  #ended = false;
  #paused = false;

  private constructor(client: pg.Client) {
    this.#client = client;
    this.#conn = (client as unknown as { connection: _CopyBothConnection }).connection;
  }

  /**
   * Starts streaming `slot` from `startLsn` with pgoutput protocol version 1 for `publication`.
   * Resolves once the server switched to CopyBoth.
   * @throws SourceError(CONNECTION_LOST) when the command fails (slot in use, connection refused...).
   */
  static async start(client: pg.Client, slot: string, publication: string, startLsn: bigint, handlers: StreamHandlers): Promise<ReplicationStream> {
    const s = new ReplicationStream(client);
    let started = false;
    const end = (error: Error | null): void => {
      if (s.#ended) return;
      s.#ended = true;
      if (started) handlers.onEnd(s.#closing ? null : error ?? new SourceError(SourceErrorCode.ConnectionLost, 'replication stream ended'));
    };
    client.on('error', (e) => end(new SourceError(SourceErrorCode.ConnectionLost, `replication connection: ${e.message}`, { cause: e })));
    client.on('end', () => end(null));
    s.#conn.on('copyData', (msg) => {
      if (!s.#ended) handlers.onChunk(msg.chunk);
    });
    const replicationStarted = new Promise<'started'>((resolve) => s.#conn.once('replicationStart', () => resolve('started')));
    const sql =
      `START_REPLICATION SLOT ${quoteIdent(slot)} LOGICAL ${formatLsn(startLsn)} ` +
      `(proto_version '1', publication_names ${quoteLiteral(quoteIdent(publication))})`;
    // The command's promise settles only when streaming ends (CopyDone) or fails (slot in use, no such slot...).
    const outcome = client.query(sql).then(
      () => null,
      (e: Error) => e,
    );
    const first = await Promise.race([replicationStarted, outcome]);
    if (first !== 'started') {
      s.#closing = true;
      await client.end().catch(() => undefined);
      throw new SourceError(SourceErrorCode.ConnectionLost, `START_REPLICATION on slot ${slot} failed: ${first?.message ?? 'ended before streaming'}`, {
        cause: first,
      });
    }
    void outcome.then((e) => end(e ? new SourceError(SourceErrorCode.ConnectionLost, `replication stream: ${e.message}`, { cause: e }) : null));
    started = true;
    if (s.#ended) handlers.onEnd(new SourceError(SourceErrorCode.ConnectionLost, 'replication stream ended at start'));
    return s;
  }

  send(chunk: Buffer): void {
    if (!this.#ended) this.#conn.sendCopyFromChunk(chunk);
  }

  pause(): void {
    if (this.#paused || this.#ended) return;
    this.#paused = true;
    this.#conn.stream.pause();
  }

  resume(): void {
    if (!this.#paused || this.#ended) return;
    this.#paused = false;
    this.#conn.stream.resume();
  }

  get paused(): boolean {
    return this.#paused;
  }

  /** Ends the session; `onEnd(null)` follows. Nothing is confirmed here: the caller sent its last status already. */
  async close(): Promise<void> {
    this.#closing = true;
    this.#paused = false;
    await this.#client.end().catch(() => undefined);
  }
}
