import { HashSuite, newEvent, type VerificationResult } from '@merklesync/protocol';
import { createTestDb, type TestDb } from '@merklesync/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VerificationStore, VerificationStoreError } from '../src/index.ts';

let db: TestDb;
let store: VerificationStore;
const h = (b: number): Uint8Array => new Uint8Array(32).fill(b);

function result(i: number, success: boolean): VerificationResult {
  return newEvent('verification-result', {
    transactionId: `tx-${i}`,
    querySequence: BigInt(i),
    success,
    hashSuite: HashSuite.SHA256,
    preRoot: h(1),
    postRootClaimed: h(2),
    postRootCalculated: success ? h(2) : h(3),
    mismatches: success ? [] : [{ table: 'public.t', claimedRoot: h(4), calculatedRoot: h(5), keys: [{ mapKey: h(6), claimedLeaf: h(7), calculatedLeaf: new Uint8Array(0) }] }],
    verifiedAtUnixMicros: BigInt(i),
  });
}

beforeAll(async () => {
  db = await createTestDb({ prefix: 'ms_vstore' });
  store = new VerificationStore(db.pool, 'vtest');
  await store.migrate();
  await store.migrate(); // idempotent
});
afterAll(() => db?.drop());

describe('VerificationStore', () => {
  it('stores, replaces and reads results by transaction id', async () => {
    await store.put(result(1, false));
    await store.put(result(1, true));
    const got = await store.get('tx-1');
    expect(got?.success).toBe(true);
    expect(await store.get('nope')).toBeUndefined();
  });

  it('pages newest first, optionally failures only, with opaque tokens', async () => {
    for (let i = 2; i <= 7; i++) await store.put(result(i, i % 2 === 0));
    const p1 = await store.list(3, '', false);
    expect(p1.results.map((r) => r.transactionId)).toEqual(['tx-7', 'tx-6', 'tx-5']);
    const p2 = await store.list(3, p1.nextPageToken, false);
    expect(p2.results.map((r) => r.transactionId)).toEqual(['tx-4', 'tx-3', 'tx-2']);
    const p3 = await store.list(3, p2.nextPageToken, false);
    expect(p3.results.map((r) => r.transactionId)).toEqual(['tx-1']);
    expect(p3.nextPageToken).toBe('');
    const f = await store.list(10, '', true);
    expect(f.results.map((r) => r.transactionId)).toEqual(['tx-7', 'tx-5', 'tx-3']);
    expect(f.results[0]!.mismatches[0]!.table).toBe('public.t');
  });

  it('refuses bad page tokens and sizes with typed errors', async () => {
    await expect(store.list(10, 'garbage', false)).rejects.toBeInstanceOf(VerificationStoreError);
    await expect(store.list(0, '', false)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(() => new VerificationStore(db.pool, 'bad"schema')).toThrow(RangeError);
  });
});
