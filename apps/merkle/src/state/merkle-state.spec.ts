import { describe, expect, it } from 'vitest';
import { LogTree, MemoryMapStore, SparseMerkleMap, getHashSuite, toHex } from '@merklesync/merkle';
import { RowOperation, newEvent, stateRoot, type ChangeEvent } from '@merklesync/protocol';
import { BlockOp } from '@merklesync/store';
import { encodeLogLeaf } from './log-leaf.ts';
import { MerkleState } from './merkle-state.ts';

const suite = getHashSuite('sha256');
const key = (n: number): Uint8Array => new Uint8Array(32).fill(n);
const leaf = (n: number): Uint8Array => new Uint8Array(32).fill(100 + n);

function ev(table: string, op: RowOperation, n = 0, rowVersion = 7n): ChangeEvent {
  const row = op === RowOperation.INSERT || op === RowOperation.UPDATE;
  const named = op !== RowOperation.TRUNCATE;
  return newEvent('change', {
    block: {
      source: 's',
      table,
      mapKey: named ? key(n) : new Uint8Array(0),
      leafCommitment: row ? leaf(n) : new Uint8Array(0),
      block: row ? Uint8Array.of(n) : new Uint8Array(0),
      rowVersion,
      op,
    },
    transactionId: 't',
    position: { position: { case: 'pgLsn', value: rowVersion } },
    commitTimeUnixMicros: 1n,
    changeIndex: 0,
  });
}

const rootOf = (entries: [number, number][]): Uint8Array => {
  const m = new SparseMerkleMap({ suite });
  return m.update(m.emptyRoot, entries.map(([k, v]) => ({ key: key(k), value: leaf(v) })));
};

describe('MerkleState stage', () => {
  it('groups changes by table when tables alternate, and when equal names are different string objects', () => {
    const s = new MerkleState(suite);
    // `${…}` makes a new string object per call: equal names must still land in one group.
    const t = (name: string): string => `public.${name}`;
    const staged = s.stage([ev(t('a'), RowOperation.INSERT, 1), ev(t('b'), RowOperation.INSERT, 9), ev(t('a'), RowOperation.INSERT, 2), ev(t('b'), RowOperation.INSERT, 8), ev(t('a'), RowOperation.INSERT, 3)]);
    s.commit(s.seal(), 1);
    expect(toHex(s.tableRoot('s', 'public.a'))).toBe(toHex(rootOf([[1, 1], [2, 2], [3, 3]])));
    expect(toHex(s.tableRoot('s', 'public.b'))).toBe(toHex(rootOf([[9, 9], [8, 8]])));
    expect(staged.tables.map((x) => [x.table, x.count])).toEqual([['public.a', 3], ['public.b', 2]]);
    expect(staged.blocks.map((b) => [b.table, b.logIndex])).toEqual([['public.a', 0], ['public.b', 1], ['public.a', 2], ['public.b', 3], ['public.a', 4]]);
  });
});

describe('MerkleState truncate', () => {
  it('deletes every row the table holds at that point, each with its own log entry and tombstone', () => {
    const s = new MerkleState(suite);
    s.stage([1, 2, 3].map((n) => ev('public.a', RowOperation.INSERT, n)).concat([ev('public.b', RowOperation.INSERT, 9)]));
    s.commit(s.seal(), 1);
    expect(s.log.size).toBe(4);

    // In one batch: a row inserted before the truncate goes too; a row inserted after it stays.
    const staged = s.stage([ev('public.a', RowOperation.INSERT, 4, 8n), ev('public.a', RowOperation.TRUNCATE, 0, 8n), ev('public.a', RowOperation.INSERT, 5, 8n)], 2);
    const group = s.seal();
    s.commit(group, 2);
    expect(staged.changes).toBe(1 + 4 + 1);
    expect(s.log.size).toBe(4 + 6);
    expect(toHex(s.tableRoot('s', 'public.a'))).toBe(toHex(rootOf([[5, 5]])));
    expect(toHex(s.tableRoot('s', 'public.b'))).toBe(toHex(rootOf([[9, 9]])));
    expect(staged.tables).toEqual([{ source: 's', table: 'public.a', count: 6 }]);
    expect(group.tables).toEqual([{ source: 's', table: 'public.a', root: s.tableRoot('s', 'public.a'), count: 6, seq: 2 }]);
    expect(toHex(group.last.stateRoot)).toBe(toHex(stateRoot(suite, [
      { source: 's', table: 'public.a', root: rootOf([[5, 5]]) },
      { source: 's', table: 'public.b', root: rootOf([[9, 9]]) },
    ])));

    // Every change's block: the insert of row 4, then tombstones in key order at consecutive log indexes (row 4's
    // supersedes its insert in the store), then row 5.
    const blocks = [...staged.blocks].sort((x, y) => x.logIndex - y.logIndex);
    expect(blocks.map((b) => [b.mapKey[0], b.op, b.logIndex, b.leafCommitment, b.block])).toEqual([
      [4, BlockOp.Insert, 4, leaf(4), Uint8Array.of(4)],
      [1, BlockOp.Delete, 5, null, null],
      [2, BlockOp.Delete, 6, null, null],
      [3, BlockOp.Delete, 7, null, null],
      [4, BlockOp.Delete, 8, null, null],
      [5, BlockOp.Insert, 9, leaf(5), Uint8Array.of(5)],
    ]);

    // The log holds exactly what a source deleting each row would have produced.
    const expected = new LogTree(suite);
    expected.appendMany([1, 2, 3].map((n) => encodeLogLeaf(suite, ev('public.a', RowOperation.INSERT, n).block!)).concat([encodeLogLeaf(suite, ev('public.b', RowOperation.INSERT, 9).block!)]));
    expected.append(encodeLogLeaf(suite, ev('public.a', RowOperation.INSERT, 4, 8n).block!));
    for (const n of [1, 2, 3, 4]) expected.append(encodeLogLeaf(suite, ev('public.a', RowOperation.DELETE, n, 8n).block!));
    expected.append(encodeLogLeaf(suite, ev('public.a', RowOperation.INSERT, 5, 8n).block!));
    expect(toHex(s.log.root())).toBe(toHex(expected.root()));
  });

  it('truncating an empty or unknown table changes nothing but the batch', () => {
    const s = new MerkleState(suite);
    const staged = s.stage([ev('public.none', RowOperation.TRUNCATE)]);
    s.commit(s.seal(), 1);
    expect(staged.changes).toBe(0);
    expect(s.log.size).toBe(0);
    expect(staged.blocks).toEqual([]);
    expect(staged.tables).toEqual([]);
    expect(toHex(s.tableRoot('s', 'public.none'))).toBe(toHex(new SparseMerkleMap({ suite }).emptyRoot));
  });
});

describe('MerkleState groups in flight', () => {
  it('stages the next group on top of the one in flight; each group gets only its own new nodes; prunes only with nothing staged', () => {
    const s = new MerkleState(suite);
    const a = s.stage([1, 2].map((n) => ev('public.a', RowOperation.INSERT, n)));
    const first = s.seal();
    expect(a.changes).toBe(2);
    expect(first.changes).toBe(2);
    expect(first.last.logSize).toBe(2);
    expect(toHex(first.tables[0]!.root)).toBe(toHex(rootOf([[1, 1], [2, 2]])));
    expect(s.isBroken).toBe(true);
    expect(() => s.seal()).toThrow(/seal needs staged batches/); // nothing staged yet
    // The next batch builds on the in-flight group's root, not on the committed (empty) one.
    s.stage([ev('public.a', RowOperation.INSERT, 3), ev('public.b', RowOperation.INSERT, 9)]);
    expect(() => s.seal()).toThrow(/no group in flight/);
    expect(s.pruneDue(2)).toBe(true);
    expect(s.pruneDue(3)).toBe(false);
    // Committing the first group while the second is staged: its roots become current, nothing is pruned.
    s.commit(first, 1, 1);
    expect(toHex(s.tableRoot('s', 'public.a'))).toBe(toHex(rootOf([[1, 1], [2, 2]])));
    expect(s.sequence).toBe(1);
    const second = s.seal();
    expect(toHex(second.tables.find((t) => t.table === 'public.a')!.root)).toBe(toHex(rootOf([[1, 1], [2, 2], [3, 3]])));
    expect(second.last.logSize).toBe(4);
    expect(toHex(second.last.stateRoot)).toBe(toHex(stateRoot(suite, [
      { source: 's', table: 'public.a', root: rootOf([[1, 1], [2, 2], [3, 3]]) },
      { source: 's', table: 'public.b', root: rootOf([[9, 9]]) },
    ])));
    // Only nodes created since the first group was sealed: none of them is a node of the first group's map.
    const firstNodes = new Set(first.nodes.sortedPairs().map((n) => toHex(n.hash)));
    expect(second.nodes.count).toBeGreaterThan(0);
    for (const n of second.nodes.sortedPairs()) expect(firstNodes.has(toHex(n.hash))).toBe(false);
    expect(second.nodes.sortedPairs().map((n) => toHex(n.hash))).toContain(toHex(rootOf([[9, 9]])));
    expect(second.nodes.sortedPairs().map((n) => toHex(n.hash))).toContain(toHex(rootOf([[1, 1], [2, 2], [3, 3]])));
    s.commit(second, 2, 1); // nothing staged now: this one prunes
    expect(s.isBroken).toBe(false);
    expect(toHex(s.stateRoot())).toBe(toHex(second.last.stateRoot));
    // After the prune the state keeps working: the next group's nodes come from a fresh mark.
    s.stage([ev('public.b', RowOperation.DELETE, 9)]);
    const third = s.seal();
    s.commit(third, 3, 1);
    expect(toHex(s.tableRoot('s', 'public.b'))).toBe(toHex(new SparseMerkleMap({ suite }).emptyRoot));
  });

  it('a commit of anything but the group in flight is refused; abandon drops the staged and the in-flight group', () => {
    const s = new MerkleState(suite);
    s.stage([ev('public.a', RowOperation.INSERT, 1)]);
    const g = s.seal();
    expect(() => s.commit({ ...g }, 1)).toThrow(/not in flight/);
    s.stage([ev('public.a', RowOperation.INSERT, 2)]);
    s.abandon();
    expect(s.isAbandoned).toBe(true);
    expect(() => s.commit(g, 1)).toThrow(/not in flight/);
    expect(() => s.stage([ev('public.a', RowOperation.INSERT, 3)])).toThrow(/abandoned/);
  });
});

describe('MerkleState group-level map updates', () => {
  // The same changes staged one batch per group (each batch's root computed) and as one group of several batches
  // (one map update per table at seal) must give the same roots, log and blocks.
  const batches = (): [ChangeEvent[], number][] => [
    [[1, 2, 3, 4].map((n) => ev('public.a', RowOperation.INSERT, n)), 11],
    [[ev('public.b', RowOperation.INSERT, 9), ev('public.b', RowOperation.INSERT, 8)], 12],
    // key 2 deleted in a later batch of the group, key 3 updated, key 1 deleted then re-inserted
    [[ev('public.a', RowOperation.DELETE, 2), ev('public.a', RowOperation.UPDATE, 3), ev('public.a', RowOperation.DELETE, 1)], 13],
    [[ev('public.a', RowOperation.INSERT, 1), ev('public.a', RowOperation.DELETE, 7)], 14],
  ];

  it('one update per table over the whole group gives the roots batch-by-batch staging gives', () => {
    const oneStore = new MemoryMapStore();
    const one = new MerkleState(suite, new LogTree(suite), oneStore);
    for (const [events, seq] of batches()) {
      one.stage(events, seq);
      one.commit(one.seal(seq), seq);
    }
    const groupedStore = new MemoryMapStore();
    const grouped = new MerkleState(suite, new LogTree(suite), groupedStore);
    const staged = batches().map(([events, seq]) => grouped.stage(events, seq));
    const group = grouped.seal(14);
    expect(staged.map((b) => b.tables.map((t) => [t.table, t.count]))).toEqual([[['public.a', 4]], [['public.b', 2]], [['public.a', 3]], [['public.a', 2]]]);
    // Each table once, its changes over the group, stamped with the last batch that changed it.
    expect(group.tables.map((t) => [t.table, t.count, t.seq])).toEqual([['public.a', 9, 14], ['public.b', 2, 12]]);
    expect(group.changes).toBe(11);
    grouped.commit(group, 14);
    expect(toHex(grouped.tableRoot('s', 'public.a'))).toBe(toHex(one.tableRoot('s', 'public.a')));
    expect(toHex(grouped.tableRoot('s', 'public.a'))).toBe(toHex(rootOf([[1, 1], [3, 3], [4, 4]])));
    expect(toHex(grouped.tableRoot('s', 'public.b'))).toBe(toHex(one.tableRoot('s', 'public.b')));
    expect(toHex(group.last.stateRoot)).toBe(toHex(one.stateRoot()));
    expect(toHex(group.last.logRoot)).toBe(toHex(one.log.root()));
    expect(group.last.logSize).toBe(11);
    expect(group.last.allTables.map((t) => t.table)).toEqual(['public.a', 'public.b']);
    // Only the group's final roots' nodes are collected: the final root of public.a is among them, the root it had
    // after the first batch is not.
    const hashes = group.nodes.sortedPairs().map((n) => toHex(n.hash));
    expect(hashes).toContain(toHex(rootOf([[1, 1], [3, 3], [4, 4]])));
    expect(hashes).not.toContain(toHex(rootOf([[1, 1], [2, 2], [3, 3], [4, 4]])));
    // That root was never computed in the grouped state; batch by batch it was.
    expect(oneStore.atOf(rootOf([[1, 1], [2, 2], [3, 3], [4, 4]]))).toBeDefined();
    expect(groupedStore.atOf(rootOf([[1, 1], [2, 2], [3, 3], [4, 4]]))).toBeUndefined();
  });

  it('a truncate in a later batch removes what the group\'s earlier batches inserted', () => {
    const s = new MerkleState(suite);
    s.stage([ev('public.a', RowOperation.INSERT, 1)], 1);
    s.commit(s.seal(1), 1);
    s.stage([ev('public.a', RowOperation.INSERT, 2), ev('public.a', RowOperation.INSERT, 3)], 2);
    const t = s.stage([ev('public.a', RowOperation.TRUNCATE, 0, 9n), ev('public.a', RowOperation.INSERT, 4, 9n)], 3);
    expect(t.changes).toBe(3 + 1); // keys 1, 2, 3 deleted, 4 inserted
    expect(t.blocks.map((b) => [b.mapKey[0], b.op])).toEqual([[1, BlockOp.Delete], [2, BlockOp.Delete], [3, BlockOp.Delete], [4, BlockOp.Insert]]);
    const group = s.seal(3);
    expect(group.tables.map((x) => [x.table, x.count, x.seq])).toEqual([['public.a', 6, 3]]);
    s.commit(group, 3);
    expect(toHex(s.tableRoot('s', 'public.a'))).toBe(toHex(rootOf([[4, 4]])));
  });

  it('a batch that throws part-way leaves the group as it was before it', () => {
    const bad = (): ChangeEvent => {
      const e = ev('public.a', RowOperation.INSERT, 6);
      e.block!.mapKey = new Uint8Array(31);
      return e;
    };
    const s = new MerkleState(suite);
    s.stage([ev('public.a', RowOperation.INSERT, 1)], 1);
    s.commit(s.seal(1), 1);
    s.stage([ev('public.a', RowOperation.INSERT, 2)], 2);
    // A new table, a change to a pending one, a truncate replacing its ops: all undone.
    expect(() => s.stage([ev('public.c', RowOperation.INSERT, 5), bad()], 3)).toThrow(RangeError);
    expect(() => s.stage([ev('public.a', RowOperation.INSERT, 3), ev('public.a', RowOperation.TRUNCATE), ev('public.a', RowOperation.INSERT, 4), bad()], 3)).toThrow(/32 bytes/);
    expect(s.stagedCount).toBe(1);
    expect(s.log.size).toBe(2);
    s.stage([ev('public.a', RowOperation.INSERT, 7)], 3);
    const group = s.seal(3);
    expect(group.tables.map((x) => [x.table, x.count, x.seq])).toEqual([['public.a', 2, 3]]);
    expect(group.changes).toBe(2);
    s.commit(group, 3);
    expect(toHex(s.tableRoot('s', 'public.a'))).toBe(toHex(rootOf([[1, 1], [2, 2], [7, 7]])));
    expect(toHex(s.tableRoot('s', 'public.c'))).toBe(toHex(new SparseMerkleMap({ suite }).emptyRoot));
  });
});
