// The verifier against the real PostgreSQL: records are made here the way the proxy makes them (libs/state-capture
// over the test's own connection, sealed with the same keys), then verified in a real worker pool. Every way a
// record can be wrong gives success=false with a typed reason, never an exception or a pass.
import { randomBytes } from 'node:crypto';
import { Keyring, LocalKeyProvider } from '@merklesync/crypto';
import { HashSuite, type StateCommitmentRecord, newEvent } from '@merklesync/protocol';
import { analyzeSql, initSqlAnalysis } from '@merklesync/sql-analysis';
import {
  PRE_STATE_TABLE,
  RecordSealer,
  STATEMENTS_TABLE,
  StateHasher,
  TableCatalog,
  TxCapture,
  asPreStateDocument,
  commitCapture,
  preStateDocument,
  type RecordedStatement,
  type SqlParam,
  type SqlRunner,
} from '@merklesync/state-capture';
import { createTestDb, type TestDb } from '@merklesync/testkit';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseReplayConfig } from '../src/config.ts';
import { VerifierService } from '../src/replay/verifier.service.ts';
import { WorkerPool } from '../src/replay/worker-pool.ts';

const RAW = { getTypeParser: () => (v: string) => v };
const runnerOf = (c: pg.ClientBase): SqlRunner => ({
  run: async (sql: string, params: readonly SqlParam[]) =>
    (await c.query<(string | null)[]>({ text: sql, values: params.map((p) => (p.value === null ? null : typeof p.value === 'string' ? p.value : Buffer.from(p.value))), rowMode: 'array', types: RAW })).rows,
});

const ring = Keyring.generate('vt');
const keys = new LocalKeyProvider([ring]);
const SOURCE = 'pg-vt';
const settings = { source: SOURCE, kid: 'vt', commitmentKeyVersion: 1, algorithm: 'hmac-sha256' as const, suite: 'sha256' as const };
const sealer = new RecordSealer(keys, SOURCE, 'vt');
let db: TestDb;
let pool: WorkerPool;
let verifier: VerifierService;
let seq = 0n;

/** Runs `sqls` in one transaction on the test database, capturing like the proxy; returns the record. */
async function record(sqls: string[]): Promise<StateCommitmentRecord> {
  const c = await db.pool.connect();
  try {
    const runner = runnerOf(c);
    const cap = new TxCapture(new TableCatalog());
    await c.query('BEGIN');
    cap.pinTimestamp(runner);
    const statements: RecordedStatement[] = [];
    for (const sql of sqls) {
      await cap.before(runner, analyzeSql(sql)[0]!, []);
      await c.query(sql);
      statements.push({ sql, params: [] });
    }
    await cap.finish(runner);
    await c.query('COMMIT');
    const committed = await commitCapture(new StateHasher(keys, settings), cap);
    const txId = `vt-${randomBytes(4).toString('hex')}`;
    const s = ++seq;
    return newEvent('state-commitment', {
      transactionId: txId,
      querySequence: s,
      hashSuite: HashSuite.SHA256,
      preRoot: committed.preRoot,
      postRootClaimed: committed.postRoot,
      preState: await sealer.seal(PRE_STATE_TABLE, txId, s, preStateDocument(cap, committed, 'public')),
      warnings: cap.warnings,
      commitTimeUnixMicros: BigInt(Date.now()) * 1000n,
      statements: await sealer.seal(STATEMENTS_TABLE, txId, s, { v: 1, statements }),
    });
  } finally {
    c.release();
  }
}

beforeAll(async () => {
  await initSqlAnalysis();
  db = await createTestDb({ prefix: 'ms_verifier' });
  await db.pool.query('CREATE TABLE accounts (id int PRIMARY KEY, owner text NOT NULL, balance numeric(12,2) NOT NULL, at timestamptz)');
  await db.pool.query(`INSERT INTO accounts SELECT g, 'o' || g, g * 10, NULL FROM generate_series(1, 20) g`);
  const config = parseReplayConfig({ REPLAY_KEY_FILE: '/unused', REPLAY_KEY_ID: 'vt', REPLAY_SOURCE_ID: SOURCE, REPLAY_WORKERS: '2', REPLAY_DB_PREFIX: 'ms_vtest', REPLAY_INSTANCE_ID: randomBytes(4).toString('hex') });
  pool = new WorkerPool(config.verificationUrl, config.dbPrefix, config.instanceId, config.workers);
  await pool.start();
  verifier = new VerifierService(config, keys, pool);
});

afterAll(async () => {
  await pool?.stop();
  await db?.drop();
});

describe('VerifierService', () => {
  it('verifies an honest transaction (UPDATE, INSERT with now(), DELETE) and pins its timestamp', async () => {
    const r = await record([
      'UPDATE accounts SET balance = balance * 2 WHERE id BETWEEN 2 AND 4',
      `INSERT INTO accounts VALUES (100, 'new', 1, now())`,
      'DELETE FROM accounts WHERE id = 5',
    ]);
    const v = await verifier.verify(r);
    expect({ success: v.success, error: v.error, mismatches: v.mismatches.length }).toEqual({ success: true, error: '', mismatches: 0 });
  });

  it('names the table and key when a claimed row was changed (the record re-sealed consistently)', async () => {
    const r = await record(['UPDATE accounts SET owner = owner || $$!$$ WHERE id IN (6, 7)']);
    // An attacker with the keys changes the claim for key 7 to another row and recomputes every root: only
    // replaying the SQL can tell.
    const doc = asPreStateDocument(await sealer.open(PRE_STATE_TABLE, r.transactionId, r.querySequence, r.preState));
    const hasher = new StateHasher(keys, settings);
    await hasher.prepare(['public.accounts']);
    const t = doc.tables[0]!;
    const forged = hasher.table(t.meta, new Map([['["7"]', ['7']]]), new Map([['["7"]', ['7', 'forged', '70.00', null]]]));
    const key7 = [...forged.entries.keys()][0]!;
    const postLeaves = t.postLeaves.map(([k, l]) => [k, k === key7 ? Buffer.from(forged.entries.get(key7)!.leaf!).toString('hex') : l] as const);
    const leaves = new Map(postLeaves.map(([k, l]) => [k, l === null ? null : Uint8Array.from(Buffer.from(l, 'hex'))]));
    const claimedRoot = hasher.stateRoot([{ table: t.meta.name, root: hasher.mapRoot(leaves) }]);
    const tampered = { ...r, postRootClaimed: claimedRoot, preState: await sealer.seal(PRE_STATE_TABLE, r.transactionId, r.querySequence, { ...doc, tables: [{ ...t, postLeaves }] }) };
    const v = await verifier.verify(tampered);
    expect(v.success).toBe(false);
    expect(v.error).toBe('');
    expect(v.mismatches.map((m) => m.table)).toEqual(['public.accounts']);
    expect(v.mismatches[0]!.keys.map((k) => Buffer.from(k.mapKey).toString('hex'))).toEqual([key7]);
  });

  it('gives typed failures for inconsistent, altered or misplaced records', async () => {
    const r = await record(['UPDATE accounts SET balance = 1 WHERE id = 8']);
    const other = await record(['UPDATE accounts SET balance = 2 WHERE id = 9']);
    const flip = (b: Uint8Array): Uint8Array => Uint8Array.from(b, (x, i) => (i === 0 ? x ^ 1 : x));

    const claim = await verifier.verify({ ...r, postRootClaimed: flip(r.postRootClaimed) });
    expect([claim.success, claim.error.split(':')[0]]).toEqual([false, 'CLAIM_INCONSISTENT']);

    const pre = await verifier.verify({ ...r, preRoot: flip(r.preRoot) });
    expect([pre.success, pre.error.split(':')[0]]).toEqual([false, 'PRE_STATE_MISMATCH']);

    // A pre-state block from another record does not open under this record's binding.
    const moved = await verifier.verify({ ...r, preState: other.preState });
    expect([moved.success, moved.error]).toEqual([false, 'MALFORMED_RECORD']);

    const garbage = await verifier.verify({ ...r, statements: new Uint8Array(40) });
    expect([garbage.success, garbage.error]).toEqual([false, 'MALFORMED_RECORD']);

    // A statement that no longer does what it did (here: fails in replay) is a divergence, named by number.
    const doc = { v: 1, statements: [{ sql: 'UPDATE accounts SET balance = 1 WHERE id = 8', params: [] }, { sql: 'SELECT 1/0', params: [] }] };
    const diverged = await verifier.verify({ ...r, statements: await sealer.seal(STATEMENTS_TABLE, r.transactionId, r.querySequence, doc) });
    expect([diverged.success, diverged.error]).toEqual([false, 'STATEMENT_DIVERGED: statement 2 failed with 22012 in replay, succeeded at the proxy']);

    // The environment is thrown away: the honest record still verifies after all of that.
    expect((await verifier.verify(r)).success).toBe(true);
  });
});
