import type { AsyncMapNodeSource, MapNode } from '@merklesync/merkle';
import { _buf } from '../db.ts';

/** Bounds of {@link CachedMapNodeSource}. */
export interface NodeCacheOptions {
  /** Most nodes kept (default 100,000). */
  readonly maxEntries?: number;
  /** Most bytes of node payload kept, approximately (default 64 MiB). */
  readonly maxBytes?: number;
}

/** Counters for metrics. */
export interface NodeCacheStats {
  readonly hits: number;
  readonly misses: number;
  readonly entries: number;
  readonly bytes: number;
}

/** A source that can read a key's whole path in one call (PgMapNodeStore.fetchPath). */
export interface MapPathSource extends AsyncMapNodeSource {
  /** `fromAt`: `from`'s locator (its parent's `leftAt`/`rightAt`); undefined for a root. */
  fetchPath(from: Uint8Array, key: Uint8Array, fromAt?: number): Promise<readonly { hash: Uint8Array; node: MapNode }[]>;
}

/** A hash as the cache's map key (latin1: one char per byte). */
const _key = (h: Uint8Array): string => _buf(h).toString('latin1');

/** Approximate footprint of a cached node (payload plus per-entry overhead). */
function _size(n: MapNode): number {
  return n.type === 'leaf' ? 32 + 32 + n.value.length + 120 : 32 + 128 + 16 + 120;
}

/**
 * A read-through LRU cache in front of an AsyncMapNodeSource (the stateless prover's view of Postgres).
 * Nodes are immutable and content-addressed, so cached entries are never stale; only eviction matters.
 * Concurrent misses for one hash share one fetch; the misses of one call go to the source in one call.
 *
 * @example
 * const source = new CachedMapNodeSource(new PgMapNodeStore(pool, config, 'sha256'), { maxBytes: 256 << 20 });
 * await runMapReadAsync(mapProve(suite, root, key), source);
 */
export class CachedMapNodeSource implements AsyncMapNodeSource {
  private readonly _source: AsyncMapNodeSource;
  private readonly _maxEntries: number;
  private readonly _maxBytes: number;
  /** Insertion order = recency order (a hit re-inserts), so the first key is the least recently used. */
  private readonly _lru = new Map<string, MapNode>();
  private readonly _pending = new Map<string, Promise<MapNode | undefined>>();
  private _bytes = 0;
  private _hits = 0;
  private _misses = 0;

  /** @throws RangeError for non-positive bounds. */
  constructor(source: AsyncMapNodeSource, options: NodeCacheOptions = {}) {
    this._source = source;
    this._maxEntries = options.maxEntries ?? 100_000;
    this._maxBytes = options.maxBytes ?? 64 << 20;
    if (!(this._maxEntries > 0) || !(this._maxBytes > 0)) throw new RangeError('maxEntries and maxBytes must be positive');
  }

  /** Current counters. @example cache.stats.hits */
  get stats(): NodeCacheStats {
    return { hits: this._hits, misses: this._misses, entries: this._lru.size, bytes: this._bytes };
  }

  /**
   * The nodes for `hashes`, from the cache where present, the rest in one source call.
   * @throws whatever the source throws (nothing is cached from a failed call).
   * @example await cache.getNodes([root])
   */
  async getNodes(hashes: readonly Uint8Array[]): Promise<(MapNode | undefined)[]> {
    return this._get(hashes, undefined);
  }

  /**
   * As {@link getNodes}, with each node's locator (from its parent branch) passed on to the source for the misses
   * (to its `getNodesAt` when it has one). `runMapReadAsync` reads through this.
   * @throws whatever the source throws (nothing is cached from a failed call).
   * @example await runMapReadAsync(mapProve(suite, root, key), cache)
   */
  async getNodesAt(hashes: readonly Uint8Array[], ats: readonly (number | undefined)[]): Promise<(MapNode | undefined)[]> {
    return this._get(hashes, ats);
  }

  private async _get(hashes: readonly Uint8Array[], ats: readonly (number | undefined)[] | undefined): Promise<(MapNode | undefined)[]> {
    const out = new Array<MapNode | undefined>(hashes.length);
    const waits: Promise<void>[] = [];
    const missIdx: number[] = [];
    const missKeys: string[] = [];
    for (let i = 0; i < hashes.length; i++) {
      const k = _key(hashes[i]!);
      const hit = this._lru.get(k);
      if (hit !== undefined) {
        this._hits++;
        this._lru.delete(k);
        this._lru.set(k, hit);
        out[i] = hit;
        continue;
      }
      const p = this._pending.get(k);
      if (p !== undefined) {
        this._hits++;
        waits.push(p.then((n) => void (out[i] = n)));
        continue;
      }
      this._misses++;
      missIdx.push(i);
      missKeys.push(k);
    }
    if (missIdx.length > 0) {
      const missHashes = missIdx.map((i) => hashes[i]!);
      const fetch =
        ats !== undefined && typeof this._source.getNodesAt === 'function'
          ? this._source.getNodesAt(missHashes, missIdx.map((i) => ats[i]))
          : this._source.getNodes(missHashes);
      missKeys.forEach((k, j) => {
        const p = fetch.then((ns) => ns[j]);
        // Failures reach the caller through `fetch`; this copy only feeds concurrent waiters.
        p.catch(() => undefined);
        this._pending.set(k, p);
      });
      try {
        const got = await fetch;
        missIdx.forEach((i, j) => {
          const n = got[j];
          out[i] = n;
          if (n !== undefined) this._put(missKeys[j]!, n);
        });
      } finally {
        for (const k of missKeys) this._pending.delete(k);
      }
    }
    await Promise.all(waits);
    return out;
  }

  /**
   * The `map_roots` locator of `root` from the source (0 when the source cannot tell: it keeps no locators). Not
   * cached: asked only for a map whose root is its only leaf.
   * @example const at = await cache.rootAt(root)
   */
  async rootAt(root: Uint8Array): Promise<number> {
    const s = this._source as AsyncMapNodeSource & { rootAt?(root: Uint8Array): Promise<number> };
    return typeof s.rootAt === 'function' ? s.rootAt(root) : 0;
  }

  /**
   * Makes `key`'s path below `root` cached before a single-key read walks it: follows the path through the cache
   * and, from the first node that is not cached, reads the rest in one `fetchPath` call when the source has one
   * (otherwise nothing happens and the read fetches level by level as before). A failure is left for the read
   * itself to meet and report: this only saves round trips.
   * @example await cache.prefetchPath(root, key); await runMapReadAsync(mapProve(suite, root, key), cache)
   */
  async prefetchPath(root: Uint8Array, key: Uint8Array): Promise<void> {
    const source = this._source as Partial<MapPathSource>;
    if (typeof source.fetchPath !== 'function' || root.length !== 32 || key.length !== 32) return;
    let h: Uint8Array = root;
    let at: number | undefined;
    for (let depth = 0; depth <= 256; depth++) {
      const k = _key(h);
      const n = this._lru.get(k);
      if (n === undefined) {
        if (this._pending.has(k)) return; // being fetched already: the read will wait for it
        try {
          for (const x of await source.fetchPath.call(this._source, h, key, at)) {
            this._put(_key(x.hash), x.node);
          }
        } catch {
          // Left to the read (getNodes reports it with its own context).
        }
        return;
      }
      if (n.type === 'leaf') return;
      const right = ((key[n.bit >>> 3]! >>> (7 - (n.bit & 7))) & 1) === 1;
      h = right ? n.right : n.left;
      at = right ? n.rightAt : n.leftAt;
    }
  }

  private _put(k: string, n: MapNode): void {
    if (this._lru.has(k)) return;
    this._lru.set(k, n);
    this._bytes += _size(n);
    while (this._lru.size > this._maxEntries || this._bytes > this._maxBytes) {
      const [oldK, oldN] = this._lru.entries().next().value as [string, MapNode];
      this._lru.delete(oldK);
      this._bytes -= _size(oldN);
    }
  }
}

/**
 * Calls `source.prefetchPath(root, key)` when the source has it (a {@link CachedMapNodeSource}); otherwise nothing.
 * For services that take any AsyncMapNodeSource (tests inject plain ones).
 * @example await prefetchMapPath(nodes, root, key); const p = await runMapReadAsync(mapProve(suite, root, key), nodes)
 */
export async function prefetchMapPath(source: AsyncMapNodeSource, root: Uint8Array, key: Uint8Array): Promise<void> {
  const s = source as Partial<Pick<CachedMapNodeSource, 'prefetchPath'>>;
  if (typeof s.prefetchPath === 'function') await s.prefetchPath.call(source, root, key);
}
