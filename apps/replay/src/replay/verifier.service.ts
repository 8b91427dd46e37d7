// One verification: open the record, check its pre-state against pre_root and its claimed leaves against
// post_root_claimed, then in a worker's throw-away transaction restore the pre-state, pin the session settings,
// replay the statements (capturing with the proxy's own code), commit the result over the same key set and
// compare. The environment is rolled back whatever happens.
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { KeyProvider } from '@merklesync/crypto';
import { HashSuite, type StateCommitmentRecord, type VerificationResult, newEvent } from '@merklesync/protocol';
import { analyzeSql, type StatementInfo } from '@merklesync/sql-analysis';
import {
  PRE_STATE_TABLE,
  RecordSealer,
  STATEMENTS_TABLE,
  StateHasher,
  TableCatalog,
  TxCapture,
  asPreStateDocument,
  asStatementsDocument,
  commitCapture,
  compareCommitments,
  pkIndexes,
  relationText,
  restorePlan,
  sessionSql,
  type PreStateDocument,
  type SqlParam,
  type StatementsDocument,
} from '@merklesync/state-capture';
import type { ReplayConfig } from '../config.ts';
import { ReplayError, ReplayErrorCode } from '../errors.ts';
import { KEY_PROVIDER, REPLAY_CONFIG } from '../tokens.ts';
import { PgRunner, toPgValue } from './pg-runner.ts';
import { type ReplayWorker, WorkerPool } from './worker-pool.ts';

const _bytes = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, 'hex'));
const _eq = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));

type _Leaves = Map<string, Uint8Array | null>;

@Injectable()
export class VerifierService {
  readonly #config: ReplayConfig;
  readonly #hasher: StateHasher;
  readonly #sealer: RecordSealer;
  readonly #pool: WorkerPool;
  readonly #logger = new Logger('Verifier');

  constructor(@Inject(REPLAY_CONFIG) config: ReplayConfig, @Inject(KEY_PROVIDER) keys: KeyProvider, @Inject(WorkerPool) pool: WorkerPool) {
    this.#config = config;
    this.#pool = pool;
    this.#hasher = new StateHasher(keys, { source: config.source, kid: config.keys.kid, commitmentKeyVersion: config.keys.commitmentKeyVersion, algorithm: config.keys.commitmentAlgorithm, suite: config.suite });
    this.#sealer = new RecordSealer(keys, config.source, config.keys.kid);
  }

  /** The verdict on one record; failures to replay are verdicts too (success=false with an error code). */
  async verify(record: StateCommitmentRecord, now: () => bigint = () => BigInt(Date.now()) * 1000n): Promise<VerificationResult> {
    const base = {
      transactionId: record.transactionId,
      querySequence: record.querySequence,
      hashSuite: record.hashSuite,
      preRoot: record.preRoot,
      postRootClaimed: record.postRootClaimed,
    };
    try {
      if (record.hashSuite !== (this.#config.suite === 'sha256' ? HashSuite.SHA256 : HashSuite.BLAKE3)) {
        throw new ReplayError(ReplayErrorCode.MalformedRecord, 'MALFORMED_RECORD: hash suite differs from the replay service', `hash suite ${record.hashSuite}`);
      }
      const pre = await this.#open(record);
      const claimed = this.#claimed(pre.state);
      const claimedRoot = this.#hasher.stateRoot([...claimed.values()].map((t) => ({ table: t.table, root: t.root })));
      if (!_eq(claimedRoot, record.postRootClaimed)) {
        throw new ReplayError(ReplayErrorCode.ClaimInconsistent, 'CLAIM_INCONSISTENT: the claimed post-state leaves do not hash to post_root_claimed', 'claimed leaves vs post_root_claimed');
      }
      const { postRoot, calculated } = await this.#replay(pre.state, pre.statements, record.preRoot);
      const success = _eq(postRoot, record.postRootClaimed);
      const diffs = success ? [] : compareCommitments(claimed, calculated, this.#hasher.emptyRoot);
      return newEvent('verification-result', {
        ...base,
        success,
        postRootCalculated: postRoot,
        mismatches: diffs.slice(0, 1000).map((d) => ({
          table: d.table,
          claimedRoot: d.claimedRoot,
          calculatedRoot: d.calculatedRoot,
          keys: d.keys.slice(0, 1000).map((k) => ({ mapKey: k.mapKey, claimedLeaf: k.claimedLeaf ?? new Uint8Array(0), calculatedLeaf: k.calculatedLeaf ?? new Uint8Array(0) })),
        })),
        verifiedAtUnixMicros: now(),
      });
    } catch (e) {
      const err =
        e instanceof ReplayError
          ? e
          : new ReplayError(ReplayErrorCode.CaptureFailed, 'CAPTURE_FAILED', e instanceof Error ? e.message : String(e), { cause: e });
      this.#logger.warn(`transaction ${record.transactionId}: ${err.code}: ${err.message}`);
      return newEvent('verification-result', { ...base, success: false, postRootCalculated: new Uint8Array(0), error: err.publicDetail.slice(0, 4000), verifiedAtUnixMicros: now() });
    }
  }

  async #open(record: StateCommitmentRecord): Promise<{ state: PreStateDocument; statements: StatementsDocument }> {
    try {
      const state = asPreStateDocument(await this.#sealer.open(PRE_STATE_TABLE, record.transactionId, record.querySequence, record.preState));
      const statements = asStatementsDocument(await this.#sealer.open(STATEMENTS_TABLE, record.transactionId, record.querySequence, record.statements));
      await this.#hasher.prepare(state.tables.map((t) => t.meta.name));
      return { state, statements };
    } catch (e) {
      const code = (e as { code?: string }).code === 'KEY_MATERIAL' ? ReplayErrorCode.KeyMaterial : ReplayErrorCode.MalformedRecord;
      throw new ReplayError(code, code, e instanceof Error ? e.message : String(e), { cause: e });
    }
  }

  /** Claimed post-state per table: leaves from the record and the root they give. */
  #claimed(state: PreStateDocument): Map<string, { table: string; root: Uint8Array; leaves: _Leaves }> {
    const out = new Map<string, { table: string; root: Uint8Array; leaves: _Leaves }>();
    for (const t of state.tables) {
      const leaves: _Leaves = new Map(t.postLeaves.map(([k, v]) => [k, v === null ? null : _bytes(v)]));
      out.set(t.meta.name, { table: t.meta.name, root: this.#hasher.mapRoot(leaves), leaves });
    }
    return out;
  }

  async #replay(state: PreStateDocument, doc: StatementsDocument, preRoot: Uint8Array): Promise<{ postRoot: Uint8Array; calculated: Map<string, { table: string; root: Uint8Array; leaves: _Leaves }> }> {
    this.#checkPreState(state, preRoot);
    const w = await this.#pool.acquire();
    try {
      return await this.#inTransaction(w, state, doc);
    } finally {
      // Throw the environment away. node-postgres runs queries in order, so the worker may take its next job
      // at once: that job's BEGIN waits behind this ROLLBACK.
      w.client.query('ROLLBACK').catch(() => undefined);
      this.#pool.release(w);
    }
  }

  /** The record's pre-state rows hash to its pre_root (same commitments as the proxy's). */
  #checkPreState(state: PreStateDocument, preRoot: Uint8Array): void {
    const roots = state.tables.map((t) => {
      const idx = pkIndexes(t.meta);
      const keys = new Map(t.keys.map((k) => [JSON.stringify(k), k]));
      const rows = new Map(t.rows.map((r) => [JSON.stringify(idx.map((i) => r[i] ?? '')), r]));
      return { table: t.meta.name, root: this.#hasher.table(t.meta, keys, rows).root };
    });
    if (!_eq(this.#hasher.stateRoot(roots), preRoot)) {
      throw new ReplayError(ReplayErrorCode.PreStateMismatch, 'PRE_STATE_MISMATCH: the pre-state rows do not hash to pre_root', 'pre-state vs pre_root');
    }
  }

  async #inTransaction(w: ReplayWorker, state: PreStateDocument, doc: StatementsDocument): Promise<{ postRoot: Uint8Array; calculated: Map<string, { table: string; root: Uint8Array; leaves: _Leaves }> }> {
    const runner = new PgRunner(w.client);
    const catalog = new TableCatalog();
    // One round trip for the transaction, the pinned settings, the search_path and every table's DDL; one per
    // table for its pre-state rows.
    try {
      const plans = [...state.tables, ...(state.untracked ?? []).map((meta) => ({ meta, sequences: [], rows: [] }))].map((t) => ({ t, plan: restorePlan(t) }));
      await w.client.query(['BEGIN', sessionSql(state.searchPath, this.#config.statementTimeoutMs, state.txTimestamp), ...plans.flatMap((p) => p.plan.ddl)].join('; '));
      for (const { plan } of plans) if (plan.rows) await runner.run(plan.rows.sql, plan.rows.params);
    } catch (e) {
      throw new ReplayError(ReplayErrorCode.RestoreFailed, `RESTORE_FAILED: ${(e as { code?: string }).code ?? 'unknown'}`, (e as Error).message, { cause: e });
    }
    // The tables are the ones just created from these descriptions: no catalog queries for them. An unqualified
    // name resolves to the only restored table of that name when its schema is on the search_path.
    const byRel = new Map<string, PreStateDocument['tables'][number]['meta'][]>();
    for (const m of [...state.tables.map((t) => t.meta), ...(state.untracked ?? [])]) {
      catalog.prime(relationText({ schema: m.schema, name: m.rel }), m);
      byRel.set(m.rel, [...(byRel.get(m.rel) ?? []), m]);
    }
    for (const [rel, metas] of byRel) {
      if (metas.length === 1 && !rel.startsWith('pg_') && state.searchPath.includes(metas[0]!.schema)) catalog.prime(relationText({ name: rel }), metas[0]!);
    }
    // Replay with the capture running exactly as it did in the proxy, seeded with the claimed key set.
    const capture = new TxCapture(catalog);
    for (const t of state.tables) await capture.seed(runner, relationText({ schema: t.meta.schema, name: t.meta.rel }), t.keys);
    let i = 0;
    for (const s of doc.statements) {
      i++;
      let infos: readonly StatementInfo[] = [];
      try {
        infos = analyzeSql(s.sql);
      } catch {
        // text the parser rejects: PostgreSQL will reject it too, which is checked below
      }
      const params: SqlParam[] = s.params.map((p) => ({ value: p.v === null ? null : p.f === 1 ? Uint8Array.from(Buffer.from(p.v, 'base64')) : p.v, format: p.f, type: p.t }));
      if (infos.length === 1 && infos[0]!.tx !== undefined && infos[0]!.tx !== 'savepoint' && infos[0]!.tx !== 'release' && infos[0]!.tx !== 'rollback_to') continue;
      let failed: string | undefined;
      // The capture's reads are queued on the connection ahead of the statement (node-postgres keeps order).
      if (infos.length === 1) await capture.before(runner, infos[0]!, params);
      else for (const info of infos) await capture.before(runner, info, []);
      try {
        await w.client.query({ text: s.sql, values: params.map(toPgValue), rowMode: 'array' });
      } catch (e) {
        failed = (e as { code?: string }).code ?? 'XX000';
      }
      if (failed !== s.error) {
        throw new ReplayError(
          ReplayErrorCode.StatementDiverged,
          `STATEMENT_DIVERGED: statement ${i} ${failed === undefined ? 'succeeded' : `failed with ${failed}`} in replay, ${s.error === undefined ? 'succeeded' : `failed with ${s.error}`} at the proxy`,
          `statement ${i}: replay ${failed ?? 'ok'}, proxy ${s.error ?? 'ok'}`,
        );
      }
    }
    try {
      await capture.finish(runner);
    } catch (e) {
      throw new ReplayError(ReplayErrorCode.CaptureFailed, `CAPTURE_FAILED: ${(e as { code?: string }).code ?? 'unknown'}`, (e as Error).message, { cause: e });
    }
    const c = await commitCapture(this.#hasher, capture);
    const calculated = new Map<string, { table: string; root: Uint8Array; leaves: _Leaves }>();
    for (const t of c.tables) {
      const leaves: _Leaves = new Map([...t.post.entries].map(([k, e]) => [k, e.leaf]));
      calculated.set(t.table, { table: t.table, root: t.post.root, leaves });
    }
    return { postRoot: c.postRoot, calculated };
  }
}

