// Populates a store the way the merkle service would (maps and a log built in memory, persisted through
// applyBatch, checkpoints signed with libs/crypto) — without depending on apps/merkle.
import { generateSignerKey, signCheckpoint, type SignerKey } from '@merklesync/crypto';
import { LogTree, SparseMerkleMap, getHashSuite, type MapEntry } from '@merklesync/merkle';
import { stateRoot } from '@merklesync/protocol';
import { checkpointHash, createStore, storeConfig, type MerkleStore } from '@merklesync/store';
import type pg from 'pg';

export const SCHEMA = 'ms_prover';
export const LOG_ID = 'global';
const suite = getHashSuite('sha256');

/** The in-memory truth the proofs are checked against. */
export class Fixture {
  readonly store: MerkleStore;
  readonly map = new SparseMerkleMap({ suite });
  readonly log = new LogTree(suite);
  /** Roots and contents of every table at each checkpoint sequence. */
  readonly atCheckpoint = new Map<number, Map<string, { root: Uint8Array; rows: Map<string, Uint8Array> }>>();
  /** Current root and contents per "source/table". */
  readonly tables = new Map<string, { source: string; table: string; root: Uint8Array; rows: Map<string, Uint8Array> }>();
  private readonly key: SignerKey = generateSignerKey('prover.test/log');
  private seq = 0;
  private streamSeq = 0;
  private prev: Uint8Array | null = null;

  constructor(pool: pg.Pool) {
    this.store = createStore(pool, storeConfig({ schema: SCHEMA }), { suite: 'sha256' });
  }

  /** Applies row changes to tables, appends each to the log, persists, optionally signs a checkpoint. */
  async apply(changes: { source: string; table: string; ops: MapEntry[] }[], checkpoint: boolean, recordTables = true): Promise<void> {
    const mark = this.map.store.mark();
    const touched: { source: string; table: string; root: Uint8Array }[] = [];
    for (const c of changes) {
      const id = `${c.source}/${c.table}`;
      const t = this.tables.get(id) ?? { source: c.source, table: c.table, root: this.map.emptyRoot, rows: new Map() };
      t.root = this.map.update(t.root, c.ops);
      for (const o of c.ops) {
        if (o.value === null) t.rows.delete(Buffer.from(o.key).toString('hex'));
        else t.rows.set(Buffer.from(o.key).toString('hex'), o.value);
        this.log.append(new Uint8Array([...o.key, ...(o.value ?? [])]));
      }
      this.tables.set(id, t);
      touched.push(t);
    }
    const state = stateRoot(suite, [...this.tables.values()]);
    await this.store.apply.applyBatch('merkle', ++this.streamSeq, async (w) => {
      await w.putMapNodes(this.map.store.newNodesSince(mark, touched.map((t) => t.root)));
      await w.putLogNodes(LOG_ID, this.log);
      for (const t of touched) await w.setTableRoot(t.source, t.table, t.root);
      if (checkpoint) {
        const seq = ++this.seq;
        const note = signCheckpoint({ origin: 'prover.test/log', size: this.log.size, rootHash: this.log.root(), stateRoot: state, seq }, this.key);
        const tables = [...this.tables.values()].map((t) => ({ source: t.source, table: t.table, root: t.root }));
        await w.appendCheckpoint({ logId: LOG_ID, seq, logSize: this.log.size, logRoot: this.log.root(), stateRoot: state, note, prevHash: this.prev, ...(recordTables ? { tables } : {}) });
        this.prev = checkpointHash(note);
        this.atCheckpoint.set(seq, new Map([...this.tables].map(([id, t]) => [id, { root: t.root, rows: new Map(t.rows) }])));
      }
    });
  }

  get checkpointSeq(): number {
    return this.seq;
  }
}
