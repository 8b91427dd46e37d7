// The capture's SqlRunner inside a proxied session: its SELECTs go to the client's own backend connection (so
// they run in the client's transaction and see its uncommitted writes) as extended-protocol messages with a
// statement and portal of their own, closed afterwards. Between Syncs of the client (mid-pipeline) it ends with
// Flush, never Sync, so it cannot commit the client's implicit transaction.
import {
  FLUSH_MESSAGE,
  SYNC_MESSAGE,
  bindMessage,
  closeMessage,
  executeMessage,
  parseMessage,
} from '@merklesync/pgwire';
import type { SqlParam, SqlRunner } from '@merklesync/state-capture';
import { ProxyError, ProxyErrorCode } from '../errors.ts';
import { type BackendChannel, newUnit } from './backend-channel.ts';

export class WireRunner implements SqlRunner {
  readonly #channel: BackendChannel;
  readonly #write: (b: Buffer) => void;
  readonly #midPipeline: () => boolean;
  #n = 0;

  /** @param midPipeline true while the client has sent extended-protocol messages and no Sync yet. */
  constructor(channel: BackendChannel, write: (b: Buffer) => void, midPipeline: () => boolean) {
    this.#channel = channel;
    this.#write = write;
    this.#midPipeline = midPipeline;
  }

  /** @throws ProxyError(CAPTURE_QUERY_FAILED) with the backend's SQLSTATE and message. */
  async run(sql: string, params: readonly SqlParam[]): Promise<(string | null)[][]> {
    const name = `__merklesync_capture_${++this.#n}`;
    const flushMode = this.#midPipeline();
    const u = newUnit('capture', 'proxy', { flushMode });
    this.#channel.push(u);
    const values = params.map((p) => (p.value === null ? null : typeof p.value === 'string' ? Buffer.from(p.value, 'utf8') : Buffer.from(p.value)));
    this.#write(
      Buffer.concat([
        parseMessage(name, sql, params.map((p) => p.type)),
        bindMessage(name, name, params.map((p) => p.format), values, [0]),
        executeMessage(name),
        closeMessage('P', name),
        closeMessage('S', name),
        flushMode ? FLUSH_MESSAGE : SYNC_MESSAGE,
      ]),
    );
    await u.done;
    if (u.error) throw new ProxyError(ProxyErrorCode.CaptureQueryFailed, `capture query failed: ${u.error.get('C') ?? '?'} ${u.error.get('M') ?? ''}`);
    return u.rows;
  }
}
