import { describe, expect, it } from 'vitest';
import type { StoredCheckpoint } from '@merklesync/store';
import type { GatewayConfig } from '../config.ts';
import { GatewayError } from '../errors.ts';
import type { CheckpointReader, CheckpointTable } from '../store/ports.ts';
import { AnchorsService } from './anchors.service.ts';

const cp = (seq: number): StoredCheckpoint => ({
  logId: 'global',
  seq,
  logSize: seq * 10,
  logRoot: new Uint8Array(32),
  stateRoot: new Uint8Array(32).fill(seq),
  note: `note ${seq}`,
  hash: new Uint8Array(32),
  prevHash: null,
  createdAt: new Date(0),
  tableCount: 1,
});

// A chain of checkpoints 1..head whose reads are counted; checkpoint 2 has no recorded table roots.
function chain(head: { seq: number }) {
  const calls = { latest: 0, bySeq: 0, tableRootsAt: 0 };
  const reader: CheckpointReader = {
    latest: () => (calls.latest++, Promise.resolve(cp(head.seq))),
    bySeq: (seq) => (calls.bySeq++, Promise.resolve(seq >= 1 && seq <= head.seq ? cp(seq) : undefined)),
    list: () => Promise.resolve([]),
    tableRootsAt: (seq): Promise<CheckpointTable[] | undefined> =>
      (calls.tableRootsAt++, Promise.resolve(seq === 2 ? undefined : [{ source: 'pg', table: 't', root: new Uint8Array(32).fill(seq) }])),
  };
  return { reader, calls };
}

describe('AnchorsService', () => {
  it('reads a numbered checkpoint and its table roots once, asks for the latest every time, and never caches a failure', async () => {
    const head = { seq: 3 };
    const { reader, calls } = chain(head);
    const anchors = new AnchorsService({ suite: 'sha256' } as GatewayConfig, reader);
    const a = await anchors.resolve(3);
    expect(await anchors.resolve(3)).toBe(a);
    expect(calls).toEqual({ latest: 0, bySeq: 1, tableRootsAt: 1 });
    // The latest is looked up each time; when it is a checkpoint already resolved, its tables are not read again.
    expect(await anchors.resolve(0)).toBe(a);
    head.seq = 4;
    const b = await anchors.resolve(0);
    expect(b.checkpoint.seq).toBe(4);
    expect(await anchors.resolve(4)).toBe(b);
    expect(calls).toEqual({ latest: 2, bySeq: 1, tableRootsAt: 2 });
    // Errors are not remembered.
    await expect(anchors.resolve(2)).rejects.toThrow(GatewayError);
    await expect(anchors.resolve(2)).rejects.toThrow(GatewayError);
    await expect(anchors.resolve(9)).rejects.toThrow(GatewayError);
    expect(calls.tableRootsAt).toBe(4);
  });

  it('keeps a bounded number of anchors', async () => {
    const head = { seq: 200 };
    const { reader, calls } = chain(head);
    const anchors = new AnchorsService({ suite: 'sha256' } as GatewayConfig, reader);
    for (let s = 3; s <= 200; s++) await anchors.resolve(s);
    await anchors.resolve(200);
    expect(calls.tableRootsAt).toBe(198);
    await anchors.resolve(3); // evicted long ago: read again
    expect(calls.tableRootsAt).toBe(199);
  });
});
