import { expect } from 'vitest';
import { LogTree, getHashSuite, toHex } from '@merklesync/merkle';
import { decodeEvent } from '@merklesync/protocol';
import { createStore, storeConfig, type MerkleStore } from '@merklesync/store';
import type { MerkleConfig } from '../../src/config.ts';
import { encodeLogLeaf } from '../../src/state/log-leaf.ts';
import type { SyntheticSource } from './changes.ts';
import type { TestDb } from './env.ts';

const suite = getHashSuite('sha256');

/** The store the service under test writes (its configured schema, in the test database). */
export function storeOf(db: TestDb, config: MerkleConfig): MerkleStore {
  return createStore(db.pool, storeConfig({ schema: config.database.schema }), { suite: 'sha256' });
}

/** The log an independent builder makes from the published batches (every event, in stream order). */
export function expectedLog(messages: readonly Uint8Array[]): LogTree {
  const log = new LogTree(suite);
  for (const m of messages) for (const e of decodeEvent('change-batch', m).events) log.append(encodeLogLeaf(suite, e.block!));
  return log;
}

/** Every table root the service stored for `src` equals the root of a fresh map over the expected live set. */
export async function expectRoots(store: MerkleStore, src: SyntheticSource): Promise<void> {
  const stored = new Map((await store.apply.tableRoots()).filter((t) => t.source === src.source).map((t) => [t.table, toHex(t.root)]));
  for (const table of src.expected.keys()) expect(stored.get(table), table).toBe(toHex(src.expectedRoot(table)));
  expect(stored.size).toBe(src.expected.size);
}
