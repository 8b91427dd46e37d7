// Synthetic ChangeBatch messages as ingest would publish them: real keyed commitments and sealed blocks
// under a test master key, plus the expected live (map_key → leaf) set of every table.
import { randomBytes } from 'node:crypto';
import { commitMapKey, commitRow, deriveCommitmentKeys, deriveDataKey, deriveTableSecret, sealBlock, type CommitmentKeys } from '@merklesync/crypto';
import { SparseMerkleMap, toHex } from '@merklesync/merkle';
import { RowOperation, encodeEvent, newEvent, type ChangeEvent } from '@merklesync/protocol';

/** One row change: `row` null = delete. */
export interface RowChange {
  readonly pk: string;
  readonly row: string | null;
}

const _utf8 = new TextEncoder();

/** Builds batches for one source and tracks what every table should contain. */
export class SyntheticSource {
  readonly source: string;
  private readonly master = new Uint8Array(randomBytes(32));
  private readonly keys = new Map<string, { commit: CommitmentKeys; data: Uint8Array }>();
  /** table → (hex map key → leaf commitment). */
  readonly expected = new Map<string, Map<string, Uint8Array>>();
  /** Every change, in order (the log's entries). */
  changes = 0;
  private lsn = 1000n;
  private tx = 0;

  constructor(source: string) {
    this.source = source;
  }

  private _keys(table: string): { commit: CommitmentKeys; data: Uint8Array } {
    let k = this.keys.get(table);
    if (k === undefined) {
      const secret = deriveTableSecret(this.master, this.source, table);
      this.keys.set(table, (k = { commit: deriveCommitmentKeys(secret), data: deriveDataKey(secret) }));
    }
    return k;
  }

  /** One ChangeBatch (one transaction of one table), encoded, and updates the expected state. */
  batch(table: string, changes: readonly RowChange[], opts: { snapshot?: boolean } = {}): Uint8Array {
    const lsn = (this.lsn += 16n);
    const txId = `tx-${++this.tx}`;
    const position = { position: { case: 'pgLsn' as const, value: lsn } };
    const exp = this.expected.get(table) ?? new Map<string, Uint8Array>();
    this.expected.set(table, exp);
    const k = this._keys(table);
    const events: ChangeEvent[] = changes.map((c, i) => {
      const pk = _utf8.encode(c.pk);
      const mapKey = commitMapKey(k.commit, table, pk);
      let leafCommitment: Uint8Array = new Uint8Array(0);
      let block: Uint8Array = new Uint8Array(0);
      let op: RowOperation = RowOperation.DELETE;
      if (c.row !== null) {
        const row = _utf8.encode(c.row);
        leafCommitment = commitRow(k.commit, row);
        block = sealBlock({ kid: 'test', version: 1, key: k.data }, { source: this.source, table, primaryKey: pk, rowVersion: lsn }, row);
        op = opts.snapshot === true ? RowOperation.SNAPSHOT : exp.has(toHex(mapKey)) ? RowOperation.UPDATE : RowOperation.INSERT;
        exp.set(toHex(mapKey), leafCommitment);
      } else {
        exp.delete(toHex(mapKey));
      }
      this.changes++;
      return newEvent('change', {
        block: { source: this.source, table, mapKey, leafCommitment, block, rowVersion: lsn, op },
        transactionId: txId,
        position,
        commitTimeUnixMicros: 1_700_000_000_000_000n + lsn,
        changeIndex: i,
      });
    });
    return encodeEvent('change-batch', newEvent('change-batch', { source: this.source, table, transactionId: txId, position, partIndex: 0, partCount: 1, events }));
  }

  /** The root a fresh map over the expected live set of `table` has. */
  expectedRoot(table: string): Uint8Array {
    const map = new SparseMerkleMap({ suite: 'sha256' });
    const entries = [...(this.expected.get(table) ?? new Map<string, Uint8Array>()).entries()].map(([key, value]) => ({ key: Uint8Array.from(Buffer.from(key, 'hex')), value }));
    return map.update(map.emptyRoot, entries);
  }

  /** Every table's expected root (for stateRoot). */
  expectedTables(): { source: string; table: string; root: Uint8Array }[] {
    return [...this.expected.keys()].map((table) => ({ source: this.source, table, root: this.expectedRoot(table) }));
  }
}
