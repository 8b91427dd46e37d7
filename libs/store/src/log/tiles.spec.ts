import { LogTree, getHashSuite } from '@merklesync/merkle';
import { describe, expect, it } from 'vitest';
import { logNodesCompleted } from './proof-plan.ts';
import { TILE_WIDTH, foldSpan, tileSpanOf, tilesGrown } from './tiles.ts';

describe('log tiles', () => {
  it('lists the grown tiles with their new widths', () => {
    expect(tilesGrown(250, 260)).toEqual([
      { level: 0, index: 0, width: 256 },
      { level: 0, index: 1, width: 4 },
      { level: 1, index: 0, width: 1 },
    ]);
    expect(tilesGrown(5, 5)).toEqual([]);
    expect(tilesGrown(0, 1)).toEqual([{ level: 0, index: 0, width: 1 }]);
    expect(tilesGrown(65_535, 65_536)).toEqual([
      { level: 0, index: 255, width: 256 },
      { level: 1, index: 0, width: 256 },
      { level: 2, index: 0, width: 1 },
    ]);
    expect(() => tilesGrown(3, 2)).toThrow(RangeError);
  });

  it('covers exactly the nodes a growth completes', () => {
    // Every node completed between two sizes lies in a grown tile, within its new width; no tile is listed
    // that holds no new node.
    for (const [from, to] of [[0, 1000], [255, 257], [300, 70_000], [65_000, 131_073]] as const) {
      const grown = new Map(tilesGrown(from, to).map((t) => [`${t.level}/${t.index}`, t.width]));
      const touched = new Set<string>();
      for (const n of logNodesCompleted(from, to)) {
        if (n.level % 8 !== 0) continue;
        const s = tileSpanOf(n);
        const k = `${s.tile.level}/${s.tile.index}`;
        touched.add(k);
        expect(grown.get(k)).toBeGreaterThan(s.offset);
      }
      expect([...grown.keys()].sort()).toEqual([...touched].sort());
    }
  });

  it('maps a node to the span of its tile level and folds it to the stored hash', () => {
    expect(tileSpanOf({ level: 9, index: 3 })).toEqual({ tile: { level: 1, index: 0 }, offset: 6, count: 2, fold: 1 });
    expect(tileSpanOf({ level: 7, index: 5 })).toEqual({ tile: { level: 0, index: 2 }, offset: 128, count: 128, fold: 7 });
    expect(() => tileSpanOf({ level: -1, index: 0 })).toThrow(RangeError);
    const suite = getHashSuite('sha256');
    const tree = new LogTree(suite);
    tree.appendMany(Array.from({ length: 3 * TILE_WIDTH + 17 }, (_, i) => Uint8Array.of(i & 255, i >> 8)));
    const level0 = tree.exportLevels()[0]!;
    for (const node of [{ level: 0, index: 700 }, { level: 3, index: 33 }, { level: 7, index: 5 }, { level: 1, index: 391 }]) {
      const s = tileSpanOf(node);
      const first = (s.tile.index * TILE_WIDTH + s.offset) * 32;
      expect(foldSpan(suite, level0.subarray(first, first + 32 * s.count), s.fold)).toEqual(tree.node(node.level, node.index));
    }
  });
});
