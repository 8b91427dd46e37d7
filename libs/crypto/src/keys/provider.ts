import { CryptoError, CryptoErrorCode } from '../errors.ts';
import { _assertKeyVersion, _assertKid } from './_bytes.ts';
import { parseKeyFile } from './key-file.ts';
import { Keyring } from './keyring.ts';

/**
 * Where master keys come from. Methods may answer synchronously or with a promise, so a KMS client
 * (network round trip) fits as well as a local key file. Keys for a (kid, version) never change, so
 * callers may cache what they derive from them.
 */
export interface KeyProvider {
  /**
   * The 32 key bytes of master key `kid`, version `version`.
   * @throws CryptoError(UNKNOWN_KEY) when the provider holds no such key.
   */
  getKey(kid: string, version: number): Promise<Uint8Array> | Uint8Array;
  /**
   * The version new blocks must use (the newest).
   * @throws CryptoError(UNKNOWN_KEY) when the provider holds no such kid.
   */
  currentVersion(kid: string): Promise<number> | number;
}

/**
 * A KeyProvider over keyrings held in memory (e.g. parsed from key files, or built from an environment variable).
 * @example const provider = LocalKeyProvider.fromKeyFile(text); provider.currentVersion('prod-1')
 */
export class LocalKeyProvider implements KeyProvider {
  private readonly _rings = new Map<string, Keyring>();

  /** @throws CryptoError(INVALID_KEY) when two keyrings share a kid; TypeError for non-keyrings. */
  constructor(keyrings: Iterable<Keyring>) {
    for (const r of keyrings) {
      if (!(r instanceof Keyring)) throw new TypeError('keyrings must hold Keyring objects');
      if (this._rings.has(r.kid)) throw new CryptoError(CryptoErrorCode.InvalidKey, `two keyrings with kid ${r.kid}`);
      this._rings.set(r.kid, r);
    }
  }

  /**
   * A provider holding the one keyring of a key file.
   * @throws CryptoError(MALFORMED_INPUT | INVALID_KEY) as parseKeyFile.
   * @example LocalKeyProvider.fromKeyFile(await readFile(path, 'utf8'))
   */
  static fromKeyFile(text: string): LocalKeyProvider {
    return new LocalKeyProvider([parseKeyFile(text)]);
  }

  /** The keyring of `kid`, if held. @example provider.keyring('prod-1')?.currentVersion */
  keyring(kid: string): Keyring | undefined {
    return this._rings.get(kid);
  }

  /** The key ids this provider holds. @example provider.kids() */
  kids(): string[] {
    return [...this._rings.keys()];
  }

  /** @throws CryptoError(UNKNOWN_KEY); TypeError/RangeError for a malformed kid or version. @example provider.getKey('prod-1', 1) */
  getKey(kid: string, version: number): Uint8Array {
    _assertKid('kid', kid);
    _assertKeyVersion('version', version);
    const key = this._rings.get(kid)?.key(version);
    if (!key) throw new CryptoError(CryptoErrorCode.UnknownKey, `no master key ${kid} version ${version}`);
    return key;
  }

  /** @throws CryptoError(UNKNOWN_KEY); RangeError for a malformed kid. @example provider.currentVersion('prod-1') */
  currentVersion(kid: string): number {
    _assertKid('kid', kid);
    const ring = this._rings.get(kid);
    if (!ring) throw new CryptoError(CryptoErrorCode.UnknownKey, `no master key ${kid}`);
    return ring.currentVersion;
  }
}
