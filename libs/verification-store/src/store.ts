// VerificationResults in Postgres, in a schema of their own (default `merklesync_replay`): replay writes one row
// per transaction (a redelivered record replaces it), the gateway reads by transaction id or pages newest first.
// Rows hold the encoded protobuf message, which carries only roots, keyed map keys and leaf commitments.
import { type VerificationResult, decodeEvent, encodeEvent } from '@merklesync/protocol';
import type pg from 'pg';

/** The schema replay and gateway use unless configured otherwise. */
export const DEFAULT_VERIFICATIONS_SCHEMA = 'merklesync_replay';

/** Why a store call was refused. */
export const VerificationStoreErrorCode = { InvalidPageToken: 'INVALID_PAGE_TOKEN', InvalidArgument: 'INVALID_ARGUMENT' } as const;
export type VerificationStoreErrorCode = (typeof VerificationStoreErrorCode)[keyof typeof VerificationStoreErrorCode];

export class VerificationStoreError extends Error {
  readonly code: VerificationStoreErrorCode;
  constructor(code: VerificationStoreErrorCode, message: string) {
    super(message);
    this.name = 'VerificationStoreError';
    this.code = code;
  }
}

const _SCHEMA = /^[a-z_][a-z0-9_]{0,62}$/;

/** One page of results. */
export interface ResultPage {
  readonly results: VerificationResult[];
  readonly nextPageToken: string;
}

/**
 * Reads and writes results.
 * @example const store = new VerificationStore(pool); await store.migrate(); await store.put(result)
 */
export class VerificationStore {
  readonly #pool: pg.Pool;
  readonly #t: string;
  readonly #schema: string;

  /** @throws RangeError for a schema name that is not a plain lower-case identifier. */
  constructor(pool: pg.Pool, schema: string = DEFAULT_VERIFICATIONS_SCHEMA) {
    if (!_SCHEMA.test(schema)) throw new RangeError(`schema must match ${String(_SCHEMA)}`);
    this.#pool = pool;
    this.#schema = schema;
    this.#t = `"${schema}".verification_results`;
  }

  /** Creates the schema and table if absent (idempotent; replay runs it at start-up). */
  async migrate(): Promise<void> {
    await this.#pool.query(`CREATE SCHEMA IF NOT EXISTS "${this.#schema}"`);
    await this.#pool.query(
      `CREATE TABLE IF NOT EXISTS ${this.#t} (
         seq bigserial PRIMARY KEY,
         tx_id text NOT NULL UNIQUE,
         success boolean NOT NULL,
         verified_at_micros bigint NOT NULL,
         result bytea NOT NULL)`,
    );
    await this.#pool.query(`CREATE INDEX IF NOT EXISTS verification_results_failures ON ${this.#t} (seq) WHERE NOT success`);
  }

  /** Stores (or replaces) the result of its transaction. @throws ProtocolError for an invalid result. */
  async put(r: VerificationResult): Promise<void> {
    const bytes = encodeEvent('verification-result', r);
    await this.#pool.query(
      `INSERT INTO ${this.#t} (tx_id, success, verified_at_micros, result) VALUES ($1, $2, $3, $4)
       ON CONFLICT (tx_id) DO UPDATE SET success = excluded.success, verified_at_micros = excluded.verified_at_micros, result = excluded.result`,
      [r.transactionId, r.success, r.verifiedAtUnixMicros.toString(), Buffer.from(bytes)],
    );
  }

  async get(txId: string): Promise<VerificationResult | undefined> {
    const r = await this.#pool.query<{ result: Buffer }>(`SELECT result FROM ${this.#t} WHERE tx_id = $1`, [txId]);
    const row = r.rows[0];
    return row ? decodeEvent('verification-result', row.result) : undefined;
  }

  /**
   * Newest first. The page token is the opaque position after the last result returned.
   * @throws VerificationStoreError(INVALID_PAGE_TOKEN | INVALID_ARGUMENT)
   */
  async list(pageSize: number, pageToken: string, failuresOnly: boolean): Promise<ResultPage> {
    if (!Number.isSafeInteger(pageSize) || pageSize < 1 || pageSize > 1000) throw new VerificationStoreError(VerificationStoreErrorCode.InvalidArgument, 'page_size must be 1..1000');
    let before = '9223372036854775807';
    if (pageToken !== '') {
      const m = /^v1:(\d{1,19})$/.exec(Buffer.from(pageToken, 'base64url').toString('latin1'));
      if (!m) throw new VerificationStoreError(VerificationStoreErrorCode.InvalidPageToken, 'page_token is not one this server issued');
      before = m[1]!;
    }
    const r = await this.#pool.query<{ seq: string; result: Buffer }>(
      `SELECT seq::text, result FROM ${this.#t} WHERE seq < $1 ${failuresOnly ? 'AND NOT success' : ''} ORDER BY seq DESC LIMIT $2`,
      [before, pageSize + 1],
    );
    const rows = r.rows.slice(0, pageSize);
    const more = r.rows.length > pageSize;
    return {
      results: rows.map((x) => decodeEvent('verification-result', x.result)),
      nextPageToken: more ? Buffer.from(`v1:${rows.at(-1)!.seq}`, 'latin1').toString('base64url') : '',
    };
  }
}
