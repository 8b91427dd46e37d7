import { getCryptoBackend, type CryptoBackend } from '../backend/index.ts';
import { CryptoError } from '../errors.ts';
import { _assertKid } from '../keys/_bytes.ts';
import { KeyDeriver } from '../keys/deriver.ts';
import { defaultRandom, type RandomSource } from '../keys/master-key.ts';
import type { KeyProvider } from '../keys/provider.ts';
import type { RowBinding } from './binding.ts';
import { parseBlockHeader } from './header.ts';
import { openBlock, sealBlock } from './seal.ts';

/** Outcome of re-encrypting one block. */
export interface ReencryptResult {
  readonly block: Uint8Array;
  /** false when the block already used the current key version (it is returned unchanged). */
  readonly changed: boolean;
}

/** Outcome of one item of `reencryptMany`: a failing block does not stop the others. */
export type ReencryptManyResult = ({ readonly ok: true } & ReencryptResult) | { readonly ok: false; readonly error: CryptoError };

/**
 * Envelope encryption of rows under master key `kid` of a KeyProvider: new blocks use the provider's
 * current version; blocks of every version the provider still holds decrypt. Derived keys are cached.
 * @example
 * const env = new Envelope({ provider: LocalKeyProvider.fromKeyFile(text), kid: 'prod-1' });
 * const block = await env.encrypt({ source: 'pg', table: 'users', primaryKey: pk, rowVersion: 7 }, row);
 * const row2 = await env.decrypt(block, { source: 'pg', table: 'users', primaryKey: pk, rowVersion: 7 });
 */
export class Envelope {
  readonly kid: string;
  readonly deriver: KeyDeriver;
  private readonly _random: RandomSource;
  private readonly _backend: CryptoBackend;

  /** @throws TypeError/RangeError for a bad kid or provider. */
  constructor(opts: { provider: KeyProvider; kid: string; random?: RandomSource; backend?: CryptoBackend; cacheEntries?: number }) {
    _assertKid('kid', opts.kid);
    this.kid = opts.kid;
    this._backend = opts.backend ?? getCryptoBackend();
    this._random = opts.random ?? defaultRandom;
    this.deriver = new KeyDeriver(opts.provider, { backend: this._backend, ...(opts.cacheEntries === undefined ? {} : { maxEntries: opts.cacheEntries }) });
  }

  /**
   * Encrypts `plaintext` (the row's canonical bytes) for `binding` with the current key version.
   * @throws CryptoError(UNKNOWN_KEY) when the provider lacks the kid; TypeError/RangeError for bad arguments.
   * @example await env.encrypt(binding, rowBytes)
   */
  async encrypt(binding: RowBinding, plaintext: Uint8Array): Promise<Uint8Array> {
    const version = await this.deriver.currentVersion(this.kid);
    const key = await this.deriver.dataKey({ kid: this.kid, version, source: binding.source, table: binding.table });
    return sealBlock({ kid: this.kid, version, key }, binding, plaintext, { random: this._random, backend: this._backend });
  }

  /**
   * Decrypts `block` for `binding`, with whichever key version its header names.
   * @throws CryptoError(MALFORMED_INPUT | UNKNOWN_KEY | DECRYPTION_FAILED); TypeError/RangeError for a bad binding.
   * @example await env.decrypt(block, binding)
   */
  async decrypt(block: Uint8Array, binding: RowBinding): Promise<Uint8Array> {
    const h = parseBlockHeader(block);
    const key = await this.deriver.dataKey({ kid: h.kid, version: h.keyVersion, source: binding.source, table: binding.table });
    return openBlock(block, binding, () => key, { backend: this._backend });
  }

  /**
   * Decrypts with the version the block names and encrypts again with the current version of this
   * envelope's kid (same binding). A block already at the current version is returned unchanged.
   * @throws as decrypt and encrypt.
   * @example const { block: fresh, changed } = await env.reencrypt(old, binding);
   */
  async reencrypt(block: Uint8Array, binding: RowBinding, opts: { force?: boolean } = {}): Promise<ReencryptResult> {
    const h = parseBlockHeader(block);
    const current = await this.deriver.currentVersion(this.kid);
    const plain = await this.decrypt(block, binding);
    if (!opts.force && h.kid === this.kid && h.keyVersion === current) return { block, changed: false };
    return { block: await this.encrypt(binding, plain), changed: true };
  }

  /**
   * Re-encrypts many blocks, one result per item in order; a block that fails with a CryptoError is
   * reported, not thrown (other errors — bad arguments — are thrown).
   * @example for (const r of await env.reencryptMany(items)) if (r.ok && r.changed) await store(r.block);
   */
  async reencryptMany(items: Iterable<{ block: Uint8Array; binding: RowBinding }>, opts: { force?: boolean } = {}): Promise<ReencryptManyResult[]> {
    const out: ReencryptManyResult[] = [];
    for (const { block, binding } of items) {
      try {
        out.push({ ok: true, ...(await this.reencrypt(block, binding, opts)) });
      } catch (e) {
        if (!(e instanceof CryptoError)) throw e;
        out.push({ ok: false, error: e });
      }
    }
    return out;
  }
}
