import { LogTree, getHashSuite } from '@merklesync/merkle';
import { describe, expect, it } from 'vitest';
import { logConsistencyPlan, logInclusionPlan, logNodesCompleted, logRootPlan, resolveLogPlan, type LogProofPlan } from './proof-plan.ts';

const suite = getHashSuite('sha256');
const tree = new LogTree(suite);
tree.appendMany(Array.from({ length: 70 }, (_, i) => Uint8Array.of(i, i >> 8)));
const resolve = (p: LogProofPlan): Uint8Array[] => resolveLogPlan(suite, p, p.nodes.map((r) => tree.node(r.level, r.index)));

describe('log proof plans', () => {
  it('give the same inclusion paths, consistency paths and roots as LogTree for every small size', () => {
    for (let n = 1; n <= 70; n++) {
      expect(resolve(logRootPlan(n))).toEqual([tree.root(n)]);
      for (let i = 0; i < n; i++) expect(resolve(logInclusionPlan(i, n))).toEqual(tree.inclusionProof(i, n));
      for (let m = 1; m <= n; m++) expect(resolve(logConsistencyPlan(m, n))).toEqual(tree.consistencyProof(m, n));
    }
  });

  it('need only nodes that exist at the size (complete subtrees)', () => {
    for (let n = 1; n <= 70; n++) {
      for (const r of logInclusionPlan(n - 1, n).nodes) expect((r.index + 1) * 2 ** r.level).toBeLessThanOrEqual(n);
    }
  });

  it('lists the nodes completed by growth, matching the tree levels', () => {
    const all = logNodesCompleted(0, 70);
    expect(all.length).toBe(tree.exportLevels().reduce((s, l) => s + l.length / 32, 0));
    expect(logNodesCompleted(3, 4)).toEqual([
      { level: 0, index: 3 },
      { level: 1, index: 1 },
      { level: 2, index: 0 },
    ]);
    expect([...logNodesCompleted(0, 33), ...logNodesCompleted(33, 70)]).toHaveLength(all.length);
  });

  it('reject bad arguments and handle sizes near 2^53', () => {
    expect(() => logInclusionPlan(3, 3)).toThrow(RangeError);
    expect(() => logConsistencyPlan(0, 3)).toThrow(RangeError);
    expect(() => logRootPlan(0)).toThrow(RangeError);
    expect(() => logInclusionPlan(1.5, 3)).toThrow(TypeError);
    const big = 2 ** 53 - 1;
    const p = logInclusionPlan(big - 1, big);
    expect(p.nodes.every((r) => (r.index + 1) * 2 ** r.level <= big)).toBe(true);
    expect(logRootPlan(big).nodes).toHaveLength(53);
  });
});
