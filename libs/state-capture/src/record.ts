// The encrypted parts of a StateCommitmentRecord: the pre-state document (what replay restores, plus the claimed
// post-state's leaf commitments so replay can name differing keys) and the statements document (SQL and bound
// parameters). Both are JSON, sealed as libs/crypto envelope blocks bound to (source, pseudo-table, txId,
// querySequence), so a block moved to another record does not open.
import { KeyDeriver, openBlock, parseBlockHeader, sealBlock, type KeyProvider } from '@merklesync/crypto';
import { EventLimits } from '@merklesync/protocol';
import type { TableMeta } from './catalog.ts';
import type { KeyCommitment } from './commitments.ts';
import type { CapturedCommitments } from './roots.ts';
import { CaptureError, CaptureErrorCode } from './errors.ts';
import type { RowTexts, SequenceState, TxCapture } from './tx-capture.ts';

/** One table of the pre-state document. */
export interface PreStateTable {
  readonly meta: TableMeta;
  readonly sequences: readonly SequenceState[];
  readonly seqFloor?: { readonly column: string; readonly value: string };
  /** Every key of the transaction's key set (pk texts). */
  readonly keys: readonly string[][];
  /** Rows present before the transaction. */
  readonly rows: readonly RowTexts[];
  /** Claimed post-state: [map key hex, leaf hex or null (absent)] per key. */
  readonly postLeaves: readonly (readonly [string, string | null])[];
}

export interface PreStateDocument {
  readonly v: 1;
  /** The session's search_path when the transaction ran (unqualified names resolve through it). */
  readonly searchPath: string;
  /** The transaction timestamp (now()) when the capture ran inside an explicit transaction, else null. */
  readonly txTimestamp: string | null;
  readonly tables: readonly PreStateTable[];
  /** Tables written without a primary key (not captured): replay recreates them empty so the statements run. */
  readonly untracked?: readonly TableMeta[];
}

/** One statement as the client sent it: text, bound parameters (binary ones base64), and the SQLSTATE if it failed. */
export interface RecordedStatement {
  readonly sql: string;
  readonly params: readonly { readonly v: string | null; readonly f: 0 | 1; readonly t: number }[];
  readonly error?: string;
}

export interface StatementsDocument {
  readonly v: 1;
  readonly statements: readonly RecordedStatement[];
}

/** Pseudo-table names of the two blocks (never a real table: '$' cannot start an unquoted identifier). */
export const PRE_STATE_TABLE = '$proxy.pre-state';
export const STATEMENTS_TABLE = '$proxy.statements';

const _enc = new TextEncoder();
const _dec = new TextDecoder('utf-8', { fatal: true });

/**
 * Seals and opens the record documents with the data keys of (source, pseudo-table).
 * @example const blob = await sealer.seal(PRE_STATE_TABLE, txId, seq, doc)
 */
export class RecordSealer {
  readonly #deriver: KeyDeriver;
  readonly #source: string;
  readonly #kid: string;

  constructor(provider: KeyProvider, source: string, kid: string) {
    this.#deriver = new KeyDeriver(provider);
    this.#source = source;
    this.#kid = kid;
  }

  /** @throws CaptureError(TOO_LARGE) above the event's block limit; CaptureError(KEY_MATERIAL). */
  async seal(table: string, txId: string, seq: bigint, doc: unknown): Promise<Uint8Array> {
    const bytes = _enc.encode(JSON.stringify(doc));
    let version: number;
    let key: Uint8Array;
    try {
      version = await this.#deriver.currentVersion(this.#kid);
      key = await this.#deriver.dataKey({ kid: this.#kid, version, source: this.#source, table });
    } catch (e) {
      throw new CaptureError(CaptureErrorCode.KeyMaterial, `data key of ${table}: ${(e as Error).message}`, { cause: e });
    }
    const block = sealBlock({ kid: this.#kid, version, key }, { source: this.#source, table, primaryKey: _enc.encode(txId), rowVersion: seq }, bytes);
    if (block.length > EventLimits.maxBlockBytes) {
      throw new CaptureError(CaptureErrorCode.TooLarge, `${table} of transaction ${txId} is ${block.length} bytes encrypted; the record allows ${EventLimits.maxBlockBytes}`);
    }
    return block;
  }

  /** @throws CaptureError(MALFORMED_STATE) when the block does not open or is not JSON; CaptureError(KEY_MATERIAL). */
  async open(table: string, txId: string, seq: bigint, block: Uint8Array): Promise<unknown> {
    let key: Uint8Array;
    let header: { kid: string; keyVersion: number };
    try {
      header = parseBlockHeader(block);
    } catch (e) {
      throw new CaptureError(CaptureErrorCode.MalformedState, `${table}: ${(e as Error).message}`, { cause: e });
    }
    try {
      key = await this.#deriver.dataKey({ kid: header.kid, version: header.keyVersion, source: this.#source, table });
    } catch (e) {
      throw new CaptureError(CaptureErrorCode.KeyMaterial, `data key of ${table}: ${(e as Error).message}`, { cause: e });
    }
    try {
      const plain = openBlock(block, { source: this.#source, table, primaryKey: _enc.encode(txId), rowVersion: seq }, () => key);
      return JSON.parse(_dec.decode(plain)) as unknown;
    } catch (e) {
      throw new CaptureError(CaptureErrorCode.MalformedState, `${table} of ${txId} does not open: ${(e as Error).message}`, { cause: e });
    }
  }
}

const _isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const _strArr = (v: unknown): v is (string | null)[] => Array.isArray(v) && v.every((x) => x === null || typeof x === 'string');

function _bad(why: string): never {
  throw new CaptureError(CaptureErrorCode.MalformedState, `pre-state: ${why}`);
}

/** Checks the shape of an opened pre-state document. @throws CaptureError(MALFORMED_STATE). */
export function asPreStateDocument(v: unknown): PreStateDocument {
  if (!_isObj(v) || v.v !== 1 || typeof v.searchPath !== 'string' || !Array.isArray(v.tables)) _bad('not a version-1 document');
  if (v.txTimestamp !== null && typeof v.txTimestamp !== 'string') _bad('txTimestamp');
  for (const t of v.tables as unknown[]) {
    if (!_isObj(t) || !_isObj(t.meta) || !Array.isArray(t.keys) || !Array.isArray(t.rows) || !Array.isArray(t.postLeaves) || !Array.isArray(t.sequences)) _bad('table entry');
    const m = t.meta;
    if (typeof m.name !== 'string' || typeof m.schema !== 'string' || typeof m.rel !== 'string' || !Array.isArray(m.columns) || !Array.isArray(m.pk) || m.pk.length === 0) _bad('table meta');
    const ncol = (m.columns as unknown[]).length;
    for (const c of m.columns as unknown[]) {
      if (!_isObj(c) || typeof c.name !== 'string' || typeof c.sqlType !== 'string' || typeof c.typeOid !== 'number') _bad(`column of ${m.name}`);
    }
    if (!(t.keys as unknown[]).every((k) => _strArr(k) && k.length === (m.pk as unknown[]).length)) _bad(`keys of ${m.name}`);
    if (!(t.rows as unknown[]).every((r) => _strArr(r) && r.length === ncol)) _bad(`rows of ${m.name}`);
  }
  if (v.untracked !== undefined) {
    if (!Array.isArray(v.untracked)) _bad('untracked');
    for (const m of v.untracked as unknown[]) {
      if (!_isObj(m) || typeof m.name !== 'string' || typeof m.schema !== 'string' || typeof m.rel !== 'string' || !Array.isArray(m.columns) || !Array.isArray(m.pk)) _bad('untracked table');
    }
  }
  return v as unknown as PreStateDocument;
}

/** Checks the shape of an opened statements document. @throws CaptureError(MALFORMED_STATE). */
export function asStatementsDocument(v: unknown): StatementsDocument {
  if (!_isObj(v) || v.v !== 1 || !Array.isArray(v.statements)) _bad('statements: not a version-1 document');
  for (const s of v.statements as unknown[]) {
    if (!_isObj(s) || typeof s.sql !== 'string' || !Array.isArray(s.params)) _bad('statements: entry');
    if (s.error !== undefined && typeof s.error !== 'string') _bad('statements: error');
    for (const p of s.params as unknown[]) {
      if (!_isObj(p) || (p.v !== null && typeof p.v !== 'string') || (p.f !== 0 && p.f !== 1) || typeof p.t !== 'number') _bad('statements: parameter');
    }
  }
  return v as unknown as StatementsDocument;
}

/**
 * The pre-state document of a finished, committed capture: what the proxy seals into the record.
 * @example const doc = preStateDocument(capture, await commitCapture(hasher, capture), searchPath)
 */
export function preStateDocument(capture: TxCapture, committed: CapturedCommitments, searchPath: string): PreStateDocument {
  const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
  const post = new Map(committed.tables.map((t) => [t.table, t.post]));
  return {
    v: 1,
    searchPath,
    txTimestamp: capture.txTimestamp,
    tables: [...capture.tables.values()].map((t) => ({
      meta: t.meta,
      sequences: t.sequences,
      ...(t.seqFloor ? { seqFloor: t.seqFloor } : {}),
      keys: [...t.keys.values()],
      rows: [...t.pre.values()].filter((r) => r !== null),
      postLeaves: [...(post.get(t.meta.name)?.entries ?? new Map<string, KeyCommitment>()).entries()].map(([k, e]) => [k, e.leaf ? hex(e.leaf) : null] as const),
    })),
    ...(capture.untracked.size > 0 ? { untracked: [...capture.untracked.values()] } : {}),
  };
}
