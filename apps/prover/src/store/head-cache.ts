// Short-lived caches of the store's "heads" (current table roots, latest checkpoint) and a permanent one of
// checkpoints by sequence (immutable rows). Measured: without them every map proof costs two queries, and the
// socket writes of those queries were ≈ 40 % of the prover's CPU. A proof served from a head up to `ttlMs` old
// is still correct and verifiable; it is merely not the newest, as if the request had come `ttlMs` earlier.
import type { CheckpointTableRoot, StoredCheckpoint, StoredTableRoot } from '@merklesync/store';
import type { CheckpointReader, CheckpointTablesReader, TableRootsReader } from './ports.ts';

/** Milliseconds since some origin (the clock port; tests pass a fake). */
export type Clock = () => number;

/** A value refreshed at most every `ttlMs`, with concurrent refreshes sharing one load. */
class _Ttl<T> {
  private value: { at: number; v: T } | undefined;
  private loading: Promise<T> | undefined;
  private readonly load: () => Promise<T>;
  private readonly ttlMs: number;
  private readonly now: Clock;
  constructor(load: () => Promise<T>, ttlMs: number, now: Clock) {
    this.load = load;
    this.ttlMs = ttlMs;
    this.now = now;
  }
  get(): Promise<T> {
    const c = this.value;
    if (c !== undefined && this.now() - c.at < this.ttlMs) return Promise.resolve(c.v);
    this.loading ??= (async () => {
      const at = this.now();
      try {
        const v = await this.load();
        this.value = { at, v };
        return v;
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }
}

/**
 * Table roots cached for `ttlMs` (0: every call reads the store).
 * @example new CachedTableRoots(store.apply, 100, () => performance.now())
 */
export class CachedTableRoots implements TableRootsReader {
  private readonly ttl: _Ttl<StoredTableRoot[]>;
  constructor(source: TableRootsReader, ttlMs: number, now: Clock) {
    this.ttl = new _Ttl(() => source.tableRoots(), ttlMs, now);
  }
  tableRoots(): Promise<StoredTableRoot[]> {
    return this.ttl.get();
  }
}

/**
 * The latest checkpoint cached for `ttlMs`; checkpoints by sequence cached for good (at most `maxEntries`,
 * oldest dropped): the chain is append-only, a stored checkpoint never changes. Misses are not cached.
 * @example new CachedCheckpoints(store.checkpoints, 100, () => performance.now())
 */
export class CachedCheckpoints implements CheckpointReader {
  private readonly source: CheckpointReader;
  private readonly ttlMs: number;
  private readonly now: Clock;
  private readonly maxEntries: number;
  private readonly latestByLog = new Map<string, _Ttl<StoredCheckpoint | undefined>>();
  private readonly bySeqCache = new Map<string, StoredCheckpoint>();

  constructor(source: CheckpointReader, ttlMs: number, now: Clock, maxEntries = 4096) {
    this.source = source;
    this.ttlMs = ttlMs;
    this.now = now;
    this.maxEntries = maxEntries;
  }

  latest(logId: string): Promise<StoredCheckpoint | undefined> {
    let t = this.latestByLog.get(logId);
    if (t === undefined) {
      t = new _Ttl(() => this.source.latest(logId), this.ttlMs, this.now);
      this.latestByLog.set(logId, t);
    }
    return t.get();
  }

  async bySeq(logId: string, seq: number): Promise<StoredCheckpoint | undefined> {
    const k = `${seq}:${logId}`;
    const hit = this.bySeqCache.get(k);
    if (hit !== undefined) return hit;
    const cp = await this.source.bySeq(logId, seq);
    if (cp !== undefined) {
      this.bySeqCache.set(k, cp);
      if (this.bySeqCache.size > this.maxEntries) this.bySeqCache.delete(this.bySeqCache.keys().next().value!);
    }
    return cp;
  }
}

/**
 * The table roots of each checkpoint, cached for good (at most `maxEntries` checkpoints, oldest dropped): they
 * are written with the checkpoint and never change. "Not recorded" answers are not cached (the checkpoint may
 * simply not exist yet).
 * @example new CachedCheckpointTables(store.checkpoints)
 */
export class CachedCheckpointTables implements CheckpointTablesReader {
  private readonly source: CheckpointTablesReader;
  private readonly maxEntries: number;
  private readonly cache = new Map<string, Promise<CheckpointTableRoot[] | undefined>>();

  constructor(source: CheckpointTablesReader, maxEntries = 1024) {
    this.source = source;
    this.maxEntries = maxEntries;
  }

  tableRootsAt(logId: string, seq: number): Promise<CheckpointTableRoot[] | undefined> {
    const k = `${seq}:${logId}`;
    const hit = this.cache.get(k);
    if (hit !== undefined) return hit;
    // The promise is cached, so concurrent misses share one query; failures and misses are evicted.
    const p = this.source.tableRootsAt(logId, seq).then(
      (v) => {
        if (v === undefined) this.cache.delete(k);
        return v;
      },
      (e: unknown) => {
        this.cache.delete(k);
        throw e;
      },
    );
    this.cache.set(k, p);
    if (this.cache.size > this.maxEntries) this.cache.delete(this.cache.keys().next().value!);
    return p;
  }
}
