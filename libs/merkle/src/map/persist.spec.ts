import { describe, expect, it } from 'vitest';
import { toHex } from '../bytes.ts';
import { MerkleError } from '../errors.ts';
import { getHashSuite } from '../hash/index.ts';
import { MemoryMapStore, SparseMerkleMap, mapProve, runMapReadAsync, type AsyncMapNodeSource, type MapEntry, type MapNode, type MapNodeSource } from './index.ts';

const suite = getHashSuite('sha256');

/** Deterministic pseudo-random bytes (xorshift), so failures reproduce. */
function rng(seed: number): (n: number) => Uint8Array {
  let x = seed >>> 0 || 1;
  return (n) => {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      b[i] = x & 0xff;
    }
    return b;
  };
}

function ops(rand: (n: number) => Uint8Array, n: number): MapEntry[] {
  return Array.from({ length: n }, (_, i) => ({ key: rand(32), value: rand(i % 5 === 0 ? 0 : 1 + (i % 40)) }));
}

/** Every node reachable from `root` in `store`, keyed by hex hash. */
function reachable(store: MemoryMapStore, root: Uint8Array): Map<string, MapNode> {
  const out = new Map<string, MapNode>();
  const stack = [root];
  while (stack.length > 0) {
    const h = stack.pop()!;
    const n = store.getNode(h)!;
    out.set(toHex(h), n);
    if (n.type === 'branch') stack.push(n.left, n.right);
  }
  return out;
}

const sourceOf = (m: Map<string, MapNode>): MapNodeSource => ({ getNode: (h) => m.get(toHex(h)) });

describe('MemoryMapStore persistence support', () => {
  it('newNodesSince lists exactly the nodes a persistent store is missing', () => {
    const rand = rng(7);
    const map = new SparseMerkleMap();
    const persisted = new Map<string, MapNode>();
    let root = map.emptyRoot;
    const inserted: Uint8Array[] = [];
    for (let round = 0; round < 6; round++) {
      const mark = map.store.mark();
      const roots: Uint8Array[] = [];
      // Two updates between persists: both versions must end up stored.
      for (let j = 0; j < 2; j++) {
        const batch = ops(rand, 50);
        // Deletes too: a collapsed branch must not leave its replacement unlisted.
        if (inserted.length > 0) batch.push({ key: inserted.shift()!, value: null });
        inserted.push(...batch.filter((o) => o.value !== null).map((o) => o.key));
        root = map.update(root, batch);
        roots.push(root);
      }
      const fresh = map.store.newNodesSince(mark, roots);
      // Views list the same nodes with the same bytes (read before the store changes again).
      const seen = (l: typeof fresh) => l.map((x) => `${toHex(x.hash)}:${JSON.stringify(x.node, (_k, v: unknown) => (v instanceof Uint8Array ? toHex(v) : v))}`);
      expect(seen(map.store.newNodesSince(mark, roots, { views: true }))).toEqual(seen(fresh));
      const hexes = fresh.map((x) => toHex(x.hash));
      expect(new Set(hexes).size).toBe(hexes.length);
      for (const x of fresh) {
        expect(persisted.has(toHex(x.hash))).toBe(false);
        persisted.set(toHex(x.hash), x.node);
      }
      for (const r of roots) for (const h of reachable(map.store, r).keys()) expect(persisted.has(h)).toBe(true);
    }
  });

  it('visitNewNodesSince hands a sink the same nodes as newNodesSince, in the same order, as positions', () => {
    const rand = rng(9);
    const map = new SparseMerkleMap();
    const r0 = map.update(map.emptyRoot, ops(rand, 200));
    const mark = map.store.mark();
    const r1 = map.update(r0, [...ops(rand, 60), { key: ops(rand, 1)[0]!.key, value: new Uint8Array(200).fill(9) }]);
    const seen: string[] = [];
    const at = (b: Uint8Array, o: number, n: number): string => toHex(b.subarray(o, o + n));
    const count = map.store.visitNewNodesSince(mark, [r1, map.emptyRoot], {
      leaf: (h, ho, k, ko, v, vo, vn) => seen.push(`${at(h, ho, 32)} leaf ${at(k, ko, 32)} ${at(v, vo, vn)}`),
      branch: (h, ho, bit, c, co, m, mo) => seen.push(`${at(h, ho, 32)} branch ${bit} ${at(c, co, 32)} ${at(c, co + 32, 32)} ${at(m, mo, 32)}`),
    });
    const want = map.store.newNodesSince(mark, [r1]).map(({ hash, node }) =>
      node.type === 'leaf' ? `${toHex(hash)} leaf ${toHex(node.key)} ${toHex(node.value)}` : `${toHex(hash)} branch ${node.bit} ${toHex(node.left)} ${toHex(node.right)} ${toHex(node.minKey)}`,
    );
    expect(count).toBe(want.length);
    expect(seen).toEqual(want);
    expect(want.some((w) => w.endsWith('09'.repeat(200)))).toBe(true);
    // A sink's error stops the visit; a non-sink is refused before anything is visited.
    let calls = 0;
    const failing = { leaf: () => { if (++calls === 3) throw new Error('sink full'); }, branch: () => { if (++calls === 3) throw new Error('sink full'); } };
    expect(() => map.store.visitNewNodesSince(mark, [r1], failing)).toThrow('sink full');
    expect(calls).toBe(3);
    expect(() => map.store.visitNewNodesSince(mark, [r1], {} as never)).toThrow(TypeError);
  });

  it('newNodesSince skips the empty root and old roots, and rejects unknown roots and stale marks', () => {
    const rand = rng(3);
    const map = new SparseMerkleMap();
    const r1 = map.update(map.emptyRoot, ops(rand, 10));
    const mark = map.store.mark();
    expect(map.store.newNodesSince(mark, [map.emptyRoot, r1])).toEqual([]);
    expect(() => map.store.newNodesSince(mark, [rand(32)])).toThrow(MerkleError);
    map.prune([r1]);
    expect(() => map.store.newNodesSince(mark, [r1])).toThrow(RangeError);
  });

  it('importTree rebuilds a map that updates and proves like the original', () => {
    const rand = rng(11);
    const a = new SparseMerkleMap();
    const root = a.update(a.emptyRoot, ops(rand, 300));
    const nodes = reachable(a.store, root);
    const b = new SparseMerkleMap({ store: new MemoryMapStore() });
    b.store.importTree(root, sourceOf(nodes), { suite });
    expect(b.store.size).toBe(nodes.size);
    const more = ops(rand, 40);
    expect(toHex(b.update(root, more))).toBe(toHex(a.update(root, more)));
    const k = [...nodes.values()].find((n) => n.type === 'leaf')!;
    expect(b.prove(root, (k as { key: Uint8Array }).key)).toEqual(a.prove(root, (k as { key: Uint8Array }).key));
    b.store.importTree(b.emptyRoot, sourceOf(new Map()));
  });

  it('importTree imports single-leaf maps and rejects missing or corrupt nodes', () => {
    const rand = rng(5);
    const a = new SparseMerkleMap();
    const one = a.update(a.emptyRoot, ops(rand, 1));
    const b = new SparseMerkleMap();
    b.store.importTree(one, sourceOf(reachable(a.store, one)), { suite });
    expect(toHex(b.update(one, []))).toBe(toHex(one));

    const root = a.update(a.emptyRoot, ops(rand, 20));
    const nodes = reachable(a.store, root);
    const missing = new Map(nodes);
    missing.delete([...missing.keys()].at(-1)!);
    expect(() => new MemoryMapStore().importTree(root, sourceOf(missing))).toThrow(/not found/);
    const corrupt = new Map(nodes);
    const [h, n] = [...corrupt.entries()].find(([, x]) => x.type === 'leaf')!;
    if (n.type === 'leaf') corrupt.set(h, { ...n, value: Uint8Array.of(1, 2, 3) });
    expect(() => new MemoryMapStore().importTree(root, sourceOf(corrupt), { suite })).toThrow(/does not hash/);
  });
  it('locators: a visit gives new nodes its locator and each branch its children\'s; prune and import keep them', () => {
    const rand = rng(21);
    const map = new SparseMerkleMap();
    const m0 = map.store.mark();
    const r0 = map.update(map.emptyRoot, ops(rand, 150));
    // Group 1 is stored under locator 7; nothing has a locator before.
    expect(map.store.atOf(r0)).toBe(0);
    const atOfRow = new Map<string, number>();
    const childAts = new Map<string, [number, number]>();
    const sink = (at: number) => ({
      leaf: (h: Uint8Array, ho: number) => void atOfRow.set(toHex(h.subarray(ho, ho + 32)), at),
      branch: (h: Uint8Array, ho: number, _b: number, _c: Uint8Array, _co: number, _m: Uint8Array, _mo: number, la: number, ra: number) => {
        atOfRow.set(toHex(h.subarray(ho, ho + 32)), at);
        childAts.set(toHex(h.subarray(ho, ho + 32)), [la, ra]);
      },
    });
    map.store.visitNewNodesSince(m0, [r0], sink(7), 7);
    const m1 = map.store.mark();
    const r1 = map.update(r0, ops(rand, 30));
    map.store.visitNewNodesSince(m1, [r1], sink(9), 9);
    // Every reachable node's locator is the group that wrote it, and every branch names its children's.
    const nodes = reachable(map.store, r1);
    for (const [h, n] of nodes) {
      const hash = Uint8Array.from(Buffer.from(h, 'hex'));
      expect(map.store.atOf(hash)).toBe(atOfRow.get(h));
      if (n.type === 'branch') expect(childAts.get(h)).toEqual([atOfRow.get(toHex(n.left)), atOfRow.get(toHex(n.right))]);
    }
    expect(new Set([...nodes.keys()].map((h) => atOfRow.get(h)))).toEqual(new Set([7, 9]));
    expect(map.store.atOf(rand(32))).toBeUndefined();
    expect(() => map.store.visitNewNodesSince(m1, [r1], sink(1), -1)).toThrow(RangeError);

    // Prune renumbers records: locators move with them.
    map.prune([r1]);
    for (const h of nodes.keys()) expect(map.store.atOf(Uint8Array.from(Buffer.from(h, 'hex')))).toBe(atOfRow.get(h));

    // importTree takes the root's locator and every branch's leftAt/rightAt.
    const located = new Map<string, MapNode>();
    for (const [h, n] of nodes) {
      located.set(h, n.type === 'leaf' ? n : { ...n, leftAt: atOfRow.get(toHex(n.left))!, rightAt: atOfRow.get(toHex(n.right))! });
    }
    const b = new MemoryMapStore();
    b.importTree(r1, sourceOf(located), { suite, rootAt: atOfRow.get(toHex(r1))! });
    for (const h of nodes.keys()) expect(b.atOf(Uint8Array.from(Buffer.from(h, 'hex')))).toBe(atOfRow.get(h));
    expect(() => new MemoryMapStore().importTree(r1, sourceOf(located), { rootAt: 1.5 })).toThrow(RangeError);
  });

  it('runMapReadAsync hands a locating source each child\'s locator from its parent branch', async () => {
    const rand = rng(23);
    const map = new SparseMerkleMap();
    const entries = ops(rand, 80);
    const root = map.update(map.emptyRoot, entries);
    // A source whose branches carry locators (here: the first byte of each child's hash) and that records what it was asked.
    const asked: (number | undefined)[] = [];
    const located: AsyncMapNodeSource = {
      getNodes: () => Promise.reject(new Error('getNodes must not be used when getNodesAt exists')),
      getNodesAt: (hashes, ats) => {
        asked.push(...ats);
        return Promise.resolve(
          hashes.map((h, i) => {
            const n = map.store.getNode(h)!;
            if (ats[i] !== undefined) expect(ats[i]).toBe(h[0]! + 1);
            return n.type === 'leaf' ? n : { ...n, leftAt: n.left[0]! + 1, rightAt: n.right[0]! + 1 };
          }),
        );
      },
    };
    const proof = await runMapReadAsync(mapProve(suite, root, entries[5]!.key), located);
    expect(proof).toEqual(map.prove(root, entries[5]!.key));
    expect(asked[0]).toBeUndefined(); // the root: no parent
    expect(asked.length).toBeGreaterThan(2);
    expect(asked.slice(1).every((a) => a !== undefined)).toBe(true);
  });
});
