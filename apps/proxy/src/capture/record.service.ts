// Turns a committed, captured transaction into a StateCommitmentRecord on JetStream: commitments over the
// captured rows (libs/state-capture, libs/crypto, libs/merkle), the encrypted pre-state and statements, the
// warnings. Runs after the client got its ReadyForQuery, off the latency path; a failed publish is retried and
// then logged and counted (the client's transaction has committed either way).
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { KeyProvider } from '@merklesync/crypto';
import { JetStreamPublisher } from '@merklesync/messaging';
import { EventLimits, HashSuite, encodeEvent, newEvent } from '@merklesync/protocol';
import { analyzeSql, nondeterminismWarnings } from '@merklesync/sql-analysis';
import {
  PRE_STATE_TABLE,
  RecordSealer,
  STATEMENTS_TABLE,
  StateHasher,
  TxCapture,
  commitCapture,
  preStateDocument,
  type StatementsDocument,
  type TableCatalog,
} from '@merklesync/state-capture';
import type { ProxyConfig } from '../config.ts';
import type { OpenTransaction } from '../wire/session.ts';
import { ProxyMetrics } from './metrics.ts';
import { KEY_PROVIDER, PROXY_CONFIG } from '../tokens.ts';

@Injectable()
export class RecordService {
  readonly #config: ProxyConfig;
  readonly #publisher: JetStreamPublisher;
  readonly #metrics: ProxyMetrics;
  readonly #hasher: StateHasher;
  readonly #sealer: RecordSealer;
  readonly #logger = new Logger('RecordService');
  readonly #boot = Date.now().toString(36);
  #seq = 0n;
  readonly #inFlight = new Set<Promise<void>>();

  constructor(
    @Inject(PROXY_CONFIG) config: ProxyConfig,
    @Inject(KEY_PROVIDER) keys: KeyProvider,
    @Inject(JetStreamPublisher) publisher: JetStreamPublisher,
    @Inject(ProxyMetrics) metrics: ProxyMetrics,
  ) {
    this.#config = config;
    this.#publisher = publisher;
    this.#metrics = metrics;
    this.#hasher = new StateHasher(keys, {
      source: config.source,
      kid: config.keys.kid,
      commitmentKeyVersion: config.keys.commitmentKeyVersion,
      algorithm: config.keys.commitmentAlgorithm,
      suite: config.suite,
    });
    this.#sealer = new RecordSealer(keys, config.source, config.keys.kid);
  }

  newCapture(catalog: TableCatalog): TxCapture {
    return new TxCapture(catalog, { maxRowsPerStatement: this.#config.captureMaxRows });
  }

  /** Builds and publishes the record; never throws (failures are logged and counted). */
  committed(tx: OpenTransaction): void {
    const seq = ++this.#seq;
    const txId = `${this.#config.instanceId}-${this.#boot}-${seq}`;
    const p = this.#publish(tx, txId, seq, BigInt(Date.now()) * 1000n)
      .catch((e: unknown) => {
        this.#metrics.inc('records_failed');
        this.#logger.error(`record of ${txId} not published: ${e instanceof Error ? e.message : String(e)}`);
      })
      .finally(() => this.#inFlight.delete(p));
    this.#inFlight.add(p);
  }

  /** Waits for records being published (shutdown). */
  async drain(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  async #publish(tx: OpenTransaction, txId: string, seq: bigint, commitMicros: bigint): Promise<void> {
    const c = await commitCapture(this.#hasher, tx.capture);
    const preState = preStateDocument(tx.capture, c, tx.searchPath);
    const statements: StatementsDocument = { v: 1, statements: tx.statements };
    const warnings = [...tx.warnings, ...tx.capture.warnings];
    tx.statements.forEach((s, i) => {
      try {
        for (const info of analyzeSql(s.sql)) warnings.push(...nondeterminismWarnings(info, i + 1));
      } catch {
        // statement text the parser rejects: the backend rejected it too (its error is in the statement)
      }
    });
    const unique = [...new Set(warnings)].slice(0, EventLimits.maxWarnings).map((w) => (Buffer.byteLength(w) > EventLimits.maxWarningBytes ? w.slice(0, 500) : w));
    if (unique.length > 0) this.#logger.warn(`transaction ${txId}: ${unique.join('; ')}`);
    const event = newEvent('state-commitment', {
      transactionId: txId,
      querySequence: seq,
      hashSuite: this.#config.suite === 'sha256' ? HashSuite.SHA256 : HashSuite.BLAKE3,
      preRoot: c.preRoot,
      postRootClaimed: c.postRoot,
      preState: await this.#sealer.seal(PRE_STATE_TABLE, txId, seq, preState),
      warnings: unique,
      commitTimeUnixMicros: commitMicros,
      statements: await this.#sealer.seal(STATEMENTS_TABLE, txId, seq, statements),
    });
    const bytes = encodeEvent('state-commitment', event);
    let last: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.#publisher.publish(this.#config.stream.subject, bytes, { msgId: txId, expectStream: this.#config.stream.name });
        this.#metrics.inc('records_published');
        return;
      } catch (e) {
        last = e;
        await new Promise((r) => setTimeout(r, 100 * (attempt + 1)));
      }
    }
    throw last;
  }
}
