import type { CheckpointTableRoot, StoredCheckpoint, StoredTableRoot } from '@merklesync/store';
import { describe, expect, it } from 'vitest';
import { CachedCheckpointTables, CachedCheckpoints, CachedTableRoots } from './head-cache.ts';

describe('head caches', () => {
  it('reuse table roots for ttl ms, sharing concurrent loads', async () => {
    let now = 0;
    let loads = 0;
    const c = new CachedTableRoots({ tableRoots: () => Promise.resolve([{ streamSeq: ++loads } as StoredTableRoot]) }, 100, () => now);
    const [a, b] = await Promise.all([c.tableRoots(), c.tableRoots()]);
    expect(a).toBe(b);
    expect(loads).toBe(1);
    now = 99;
    expect((await c.tableRoots())[0]!.streamSeq).toBe(1);
    now = 100;
    expect((await c.tableRoots())[0]!.streamSeq).toBe(2);
  });

  it('ttl 0 reads every time; a failed load is not cached', async () => {
    let loads = 0;
    const c = new CachedTableRoots({ tableRoots: () => (++loads === 2 ? Promise.reject(new Error('down')) : Promise.resolve([])) }, 0, () => 0);
    await c.tableRoots();
    await expect(c.tableRoots()).rejects.toThrow('down');
    await c.tableRoots();
    expect(loads).toBe(3);
  });

  it('caches checkpoints by sequence for good, but not misses', async () => {
    let reads = 0;
    const cp = { seq: 1 } as StoredCheckpoint;
    const c = new CachedCheckpoints(
      { latest: () => Promise.resolve(cp), bySeq: (_l, s) => (reads++, Promise.resolve(s === 1 ? cp : undefined)) },
      100,
      () => 0,
    );
    expect(await c.bySeq('g', 1)).toBe(cp);
    expect(await c.bySeq('g', 1)).toBe(cp);
    expect(await c.bySeq('g', 2)).toBeUndefined();
    expect(await c.bySeq('g', 2)).toBeUndefined();
    expect(reads).toBe(3);
  });

  it('caches table roots per checkpoint for good, sharing concurrent misses, but not "not recorded" or failures', async () => {
    let reads = 0;
    const roots: CheckpointTableRoot[] = [];
    const c = new CachedCheckpointTables({
      tableRootsAt: (_l, s) => (reads++, s === 3 ? Promise.reject(new Error('down')) : Promise.resolve(s === 1 ? roots : undefined)),
    });
    const [a, b] = await Promise.all([c.tableRootsAt('g', 1), c.tableRootsAt('g', 1)]);
    expect(a).toBe(roots);
    expect(b).toBe(roots);
    expect(await c.tableRootsAt('g', 1)).toBe(roots);
    expect(await c.tableRootsAt('g', 2)).toBeUndefined();
    expect(await c.tableRootsAt('g', 2)).toBeUndefined();
    await expect(c.tableRootsAt('g', 3)).rejects.toThrow('down');
    await expect(c.tableRootsAt('g', 3)).rejects.toThrow('down');
    expect(reads).toBe(5);
  });
});
