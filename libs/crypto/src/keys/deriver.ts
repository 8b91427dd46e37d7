import { getCryptoBackend, type CryptoBackend } from '../backend/index.ts';
import { _assertKeyVersion, _assertKid, _name } from './_bytes.ts';
import { deriveDataKey, deriveTableSecret } from './derive.ts';
import type { KeyProvider } from './provider.ts';

interface _Entry {
  readonly tableSecret: Uint8Array;
  readonly dataKey: Uint8Array;
}

/** Names one table's keys under one master key version. */
export interface TableKeyRef {
  readonly kid: string;
  readonly version: number;
  readonly source: string;
  readonly table: string;
}

/**
 * Derives and caches table secrets and data keys from a KeyProvider. Keys of a (kid, version) never change,
 * so cached entries never go stale; the cache is bounded (least recently used entries are dropped).
 * @example const d = new KeyDeriver(provider); const key = await d.dataKey({ kid: 'prod-1', version: 2, source: 'pg', table: 'users' });
 */
export class KeyDeriver {
  readonly provider: KeyProvider;
  private readonly _backend: CryptoBackend;
  private readonly _max: number;
  private readonly _cache = new Map<string, Promise<_Entry>>();

  /** @throws RangeError for maxEntries < 1. */
  constructor(provider: KeyProvider, opts: { maxEntries?: number; backend?: CryptoBackend } = {}) {
    if (typeof provider !== 'object' || provider === null || typeof provider.getKey !== 'function') throw new TypeError('provider must be a KeyProvider');
    this.provider = provider;
    this._backend = opts.backend ?? getCryptoBackend();
    this._max = opts.maxEntries ?? 4096;
    if (!Number.isSafeInteger(this._max) || this._max < 1) throw new RangeError('maxEntries must be a positive integer');
  }

  /** The version new blocks of `kid` use. @throws CryptoError(UNKNOWN_KEY) from the provider. @example await d.currentVersion('prod-1') */
  async currentVersion(kid: string): Promise<number> {
    _assertKid('kid', kid);
    return await this.provider.currentVersion(kid);
  }

  private async _entry(ref: TableKeyRef): Promise<_Entry> {
    _assertKid('kid', ref.kid);
    _assertKeyVersion('version', ref.version);
    _name('source', ref.source);
    _name('table', ref.table);
    const id = JSON.stringify([ref.kid, ref.version, ref.source, ref.table]);
    const hit = this._cache.get(id);
    if (hit) {
      this._cache.delete(id);
      this._cache.set(id, hit);
      return hit;
    }
    // The promise is cached, so concurrent first uses ask a (possibly remote) provider once.
    const pending = (async (): Promise<_Entry> => {
      const master = await this.provider.getKey(ref.kid, ref.version);
      const tableSecret = deriveTableSecret(master, ref.source, ref.table, this._backend);
      return { tableSecret, dataKey: deriveDataKey(tableSecret, this._backend) };
    })();
    if (this._cache.size >= this._max) this._cache.delete(this._cache.keys().next().value!);
    this._cache.set(id, pending);
    try {
      return await pending;
    } catch (e) {
      // Failures (unknown key, KMS outage) are not cached.
      if (this._cache.get(id) === pending) this._cache.delete(id);
      throw e;
    }
  }

  /**
   * The table secret of `ref` (a copy).
   * @throws CryptoError(UNKNOWN_KEY) from the provider; TypeError/RangeError for a malformed ref.
   * @example const ts = await d.tableSecret(ref);
   */
  async tableSecret(ref: TableKeyRef): Promise<Uint8Array> {
    return new Uint8Array((await this._entry(ref)).tableSecret);
  }

  /**
   * The AES-256-GCM data key of `ref` (a copy).
   * @throws CryptoError(UNKNOWN_KEY) from the provider; TypeError/RangeError for a malformed ref.
   * @example const key = await d.dataKey(ref);
   */
  async dataKey(ref: TableKeyRef): Promise<Uint8Array> {
    return new Uint8Array((await this._entry(ref)).dataKey);
  }
}
