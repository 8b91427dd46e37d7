import { concatBytes, toHex } from '@merklesync/merkle';
import { getCryptoBackend } from '../backend/index.ts';

/** A device's Ed25519 identity. The seed is secret and stays on the device. */
export interface DeviceIdentity {
  /** 32 lowercase hex digits derived from the public key (see `deviceIdOf`). */
  readonly deviceId: string;
  readonly publicKey: Uint8Array;
  readonly seed: Uint8Array;
}

const _ID_CONTEXT = new TextEncoder().encode('merklesync/v1/device-id\n');

/**
 * The device ID of a public key: the first 16 bytes of SHA-256("merklesync/v1/device-id\n" || publicKey), as
 * lowercase hex. Anyone holding the public key recomputes it, so it needs no registry to be checked.
 * @throws RangeError when `publicKey` is not 32 bytes.
 * @example deviceIdOf(identity.publicKey) // '3f1c…' (32 hex digits)
 */
export function deviceIdOf(publicKey: Uint8Array): string {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) throw new RangeError('publicKey must be 32 bytes');
  return toHex(getCryptoBackend().sha256(concatBytes(_ID_CONTEXT, publicKey)).subarray(0, 16));
}

/**
 * The identity of a 32-byte Ed25519 seed.
 * @throws RangeError when `seed` is not 32 bytes.
 * @example deviceIdentityFromSeed(storedSeed).deviceId
 */
export function deviceIdentityFromSeed(seed: Uint8Array): DeviceIdentity {
  if (!(seed instanceof Uint8Array) || seed.length !== 32) throw new RangeError('seed must be 32 bytes');
  const publicKey = getCryptoBackend().ed25519PublicKey(seed);
  return { deviceId: deviceIdOf(publicKey), publicKey, seed: seed.slice() };
}

/**
 * A fresh device identity; `random` defaults to the platform CSPRNG.
 * @example const me = generateDeviceIdentity(); store(me.seed)
 */
export function generateDeviceIdentity(random: (n: number) => Uint8Array = (n) => getCryptoBackend().randomBytes(n)): DeviceIdentity {
  return deviceIdentityFromSeed(random(32));
}
