import { assertBytes } from '@merklesync/merkle';
import { CryptoError, CryptoErrorCode } from '../errors.ts';
import { _assertKeyVersion, _assertKid } from './_bytes.ts';
import { MASTER_KEY_BYTES, defaultRandom, generateMasterKey, type RandomSource } from './master-key.ts';

/** One version of a master key. `created` is an RFC 3339 UTC timestamp (`...Z`). */
export interface KeyVersion {
  readonly version: number;
  readonly key: Uint8Array;
  readonly created: string;
}

const _CREATED_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

/** Checks an RFC 3339 UTC timestamp as written in key files. */
export function _assertCreated(name: string, created: unknown): asserts created is string {
  if (typeof created !== 'string') throw new TypeError(`${name} must be a string`);
  if (!_CREATED_RE.test(created) || Number.isNaN(Date.parse(created))) {
    throw new RangeError(`${name} must be an RFC 3339 UTC timestamp like 2025-01-31T12:00:00Z, got ${JSON.stringify(created.slice(0, 40))}`);
  }
}

/**
 * Every version of one master key id (`kid`). The highest version is current: new blocks are encrypted
 * with it; older versions stay so that old blocks still decrypt. Immutable: `rotate` returns a new keyring.
 * @example const ring = Keyring.generate('prod-1'); const next = ring.rotate(); next.currentVersion // 2
 */
export class Keyring {
  readonly kid: string;
  readonly versions: readonly KeyVersion[];
  private readonly _byVersion: Map<number, KeyVersion>;

  /**
   * @throws TypeError/RangeError for a bad kid, version, key length or timestamp; CryptoError(INVALID_KEY)
   *   when `versions` is empty or repeats a version.
   */
  constructor(kid: string, versions: readonly KeyVersion[]) {
    _assertKid('kid', kid);
    const list: unknown = versions;
    if (!Array.isArray(list)) throw new TypeError('versions must be an array');
    if (versions.length === 0) throw new CryptoError(CryptoErrorCode.InvalidKey, `keyring ${kid}: no key versions`);
    const copies: KeyVersion[] = versions.map((v, i) => {
      _assertKeyVersion(`versions[${i}].version`, v.version);
      assertBytes(`versions[${i}].key`, v.key, MASTER_KEY_BYTES);
      _assertCreated(`versions[${i}].created`, v.created);
      return Object.freeze({ version: v.version, key: new Uint8Array(v.key), created: v.created });
    });
    copies.sort((a, b) => a.version - b.version);
    this._byVersion = new Map();
    for (const v of copies) {
      if (this._byVersion.has(v.version)) throw new CryptoError(CryptoErrorCode.InvalidKey, `keyring ${kid}: version ${v.version} appears twice`);
      this._byVersion.set(v.version, v);
    }
    this.kid = kid;
    this.versions = Object.freeze(copies);
  }

  /**
   * A keyring with one fresh random version (version 1).
   * @throws RangeError for a bad kid.
   * @example Keyring.generate('prod-1', { random: fixedBytes, now: () => new Date(0) })
   */
  static generate(kid: string, opts: { random?: RandomSource; now?: () => Date } = {}): Keyring {
    const now = opts.now ?? ((): Date => new Date());
    return new Keyring(kid, [{ version: 1, key: generateMasterKey(opts.random ?? defaultRandom), created: now().toISOString() }]);
  }

  /** The highest version: the one new blocks use. */
  get currentVersion(): number {
    return this.versions[this.versions.length - 1]!.version;
  }

  /** The key bytes of `version` (a copy), or undefined when this keyring does not hold it. @example ring.key(1) */
  key(version: number): Uint8Array | undefined {
    return this._byVersion.get(version)?.key.slice();
  }

  /**
   * A new keyring with one more version (current + 1), which becomes current; the old versions stay.
   * @throws RangeError when `key` is given and is not 32 bytes, or the version space (u32) is exhausted.
   * @example const next = ring.rotate();
   */
  rotate(opts: { key?: Uint8Array; random?: RandomSource; now?: () => Date } = {}): Keyring {
    const key = opts.key ?? generateMasterKey(opts.random ?? defaultRandom);
    const now = opts.now ?? ((): Date => new Date());
    return new Keyring(this.kid, [...this.versions, { version: this.currentVersion + 1, key, created: now().toISOString() }]);
  }
}
