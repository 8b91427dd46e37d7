import { LogTree, getHashSuite, proveLogConsistency } from '@merklesync/merkle';
import { describe, expect, it } from 'vitest';
import { HashSuite } from './gen/merklesync/v1/common_pb.ts';
import { checkpointToMessage, consistencyToMessage, suiteToWire, tableRootProofToMessage } from './messages.ts';
import { proveTableRoot, verifyTableRootProof } from './state-root.ts';

const bytes = (n: number, b: number): Uint8Array => new Uint8Array(n).fill(b);

describe('message conversions', () => {
  it('maps suite names to the wire enum', () => {
    expect(suiteToWire('sha256')).toBe(HashSuite.SHA256);
    expect(suiteToWire('blake3')).toBe(HashSuite.BLAKE3);
  });

  it('copies a checkpoint into its message, origin = the note first line', () => {
    const note = 'log.example\n5\nAAAA\n\n— log.example sig\n';
    const m = checkpointToMessage({ note, seq: 3, logSize: 5, logRoot: bytes(32, 1), stateRoot: bytes(32, 2) }, 'blake3');
    expect(new TextDecoder().decode(m.signedNote)).toBe(note);
    expect(m.origin).toBe('log.example');
    expect(m.sequence).toBe(3n);
    expect(m.logSize).toBe(5n);
    expect(m.logRoot).toEqual(bytes(32, 1));
    expect(m.stateRoot).toEqual(bytes(32, 2));
    expect(m.hashSuite).toBe(HashSuite.BLAKE3);
    expect(checkpointToMessage({ note: 'no newline', seq: 0, logSize: 0, logRoot: bytes(32, 0), stateRoot: bytes(32, 0) }, 'sha256').origin).toBe('no newline');
  });

  it('a table-root proof message still verifies', () => {
    const suite = getHashSuite('sha256');
    const tables = ['a', 'b', 'c'].map((t, i) => ({ source: 'pg', table: `public.${t}`, root: bytes(32, i + 1) }));
    const p = proveTableRoot(suite, tables, 'pg', 'public.b');
    if (p === undefined) throw new Error('fixture');
    const m = tableRootProofToMessage(p, 'sha256');
    expect(m.hashSuite).toBe(HashSuite.SHA256);
    expect(m.tableIndex).toBe(BigInt(p.tableIndex));
    expect(m.tableCount).toBe(3n);
    expect(verifyTableRootProof(suite, m, { stateRoot: p.stateRoot, source: 'pg', table: 'public.b' })).toBe(true);
  });

  it('a consistency proof becomes the bare LogConsistencyProof message', () => {
    const log = new LogTree(getHashSuite('sha256'));
    log.appendMany(Array.from({ length: 9 }, (_, i) => new Uint8Array([i])));
    const p = proveLogConsistency(log, 4);
    const m = consistencyToMessage(p);
    expect(m.size1).toBe(4n);
    expect(m.size2).toBe(9n);
    expect(m.root1).toEqual(p.root1);
    expect(m.root2).toEqual(p.root2);
    expect(m.path).toEqual([...p.path]);
  });
});
