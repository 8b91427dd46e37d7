// Populates a store the way the merkle service does (maps, log, blocks and checkpoints with their table roots,
// persisted through libs/store applyBatch; checkpoints signed with libs/crypto) — without apps/merkle.
import { generateSignerKey, signCheckpoint, verifierKeyOf, type SignerKey, type VerifierKey } from '@merklesync/crypto';
import { LogTree, SparseMerkleMap, getHashSuite, toHex } from '@merklesync/merkle';
import { stateRoot } from '@merklesync/protocol';
import { BlockOp, checkpointHash, createStore, storeConfig, type BlockInput, type MerkleStore } from '@merklesync/store';
import type pg from 'pg';

export const SCHEMA = 'ms_gateway';
export const LOG_ID = 'global';
export const ORIGIN = 'gateway.test/log';
const suite = getHashSuite('sha256');

/** One row change: a value (ciphertext + commitment) or a delete. */
export interface RowChange {
  readonly key: Uint8Array;
  readonly row: { readonly block: Uint8Array; readonly commitment: Uint8Array } | null;
}

interface _Table {
  source: string;
  table: string;
  root: Uint8Array;
  rows: Map<string, { block: Uint8Array; commitment: Uint8Array }>;
}

/** The in-memory truth the gateway's answers are checked against. */
export class Fixture {
  readonly store: MerkleStore;
  readonly map = new SparseMerkleMap({ suite });
  readonly log = new LogTree(suite);
  readonly tables = new Map<string, _Table>();
  /** Table roots and log size per checkpoint sequence. */
  readonly checkpoints = new Map<number, { roots: Map<string, Uint8Array>; logSize: number }>();
  readonly key: SignerKey = generateSignerKey(ORIGIN);
  readonly verifier: VerifierKey = verifierKeyOf(this.key);
  private seq = 0;
  private streamSeq = 0;
  private prev: Uint8Array | null = null;

  constructor(pool: pg.Pool) {
    this.store = createStore(pool, storeConfig({ schema: SCHEMA }), { suite: 'sha256' });
  }

  /** Applies changes, appends each to the log, persists with blocks, optionally signs a checkpoint. */
  async apply(changes: { source: string; table: string; rows: RowChange[] }[], checkpoint: boolean): Promise<void> {
    const mark = this.map.store.mark();
    const touched: _Table[] = [];
    const blocks: BlockInput[] = [];
    for (const c of changes) {
      const id = `${c.source}/${c.table}`;
      const t = this.tables.get(id) ?? { source: c.source, table: c.table, root: this.map.emptyRoot, rows: new Map() };
      t.root = this.map.update(
        t.root,
        c.rows.map((r) => ({ key: r.key, value: r.row?.commitment ?? null })),
      );
      for (const r of c.rows) {
        const logIndex = this.log.size;
        this.log.append(new Uint8Array([...r.key, ...(r.row?.commitment ?? [])]));
        const had = t.rows.has(toHex(r.key));
        if (r.row === null) t.rows.delete(toHex(r.key));
        else t.rows.set(toHex(r.key), r.row);
        blocks.push({
          source: c.source,
          table: c.table,
          mapKey: r.key,
          op: r.row === null ? BlockOp.Delete : had ? BlockOp.Update : BlockOp.Insert,
          rowVersion: BigInt(logIndex + 1),
          leafCommitment: r.row?.commitment ?? null,
          block: r.row?.block ?? null,
          logIndex,
        });
      }
      this.tables.set(id, t);
      touched.push(t);
    }
    const all = [...this.tables.values()];
    const state = stateRoot(suite, all);
    await this.store.apply.applyBatch('merkle', ++this.streamSeq, async (w) => {
      await w.putMapNodes(this.map.store.newNodesSince(mark, touched.map((t) => t.root)));
      await w.putLogNodes(LOG_ID, this.log);
      await w.putBlocks(blocks);
      for (const t of touched) await w.setTableRoot(t.source, t.table, t.root);
      if (checkpoint) {
        const seq = ++this.seq;
        const note = signCheckpoint({ origin: ORIGIN, size: this.log.size, rootHash: this.log.root(), stateRoot: state, seq }, this.key);
        await w.appendCheckpoint({
          logId: LOG_ID,
          seq,
          logSize: this.log.size,
          logRoot: this.log.root(),
          stateRoot: state,
          note,
          prevHash: this.prev,
          tables: all.map((t) => ({ source: t.source, table: t.table, root: t.root })),
        });
        this.prev = checkpointHash(note);
        this.checkpoints.set(seq, { roots: new Map(all.map((t) => [`${t.source}/${t.table}`, t.root])), logSize: this.log.size });
      }
    });
  }

  get checkpointSeq(): number {
    return this.seq;
  }
}
