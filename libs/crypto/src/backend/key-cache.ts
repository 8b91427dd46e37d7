import { equalBytes } from '@merklesync/merkle';

/**
 * Memoises `derive` per key array: keys (data keys, commitment keys) are long-lived arrays, and what is derived from
 * them (a KeyObject, HMAC pads, a native cipher context) costs far more than a lookup. The cache keeps a copy of the
 * key's bytes and derives again when the array was changed in place; entries go with their key array.
 * @example const aesKey = perKeyArray((raw) => createSecretKey(raw.slice()));
 */
export function perKeyArray<T>(derive: (key: Uint8Array) => T): (key: Uint8Array) => T {
  const cache = new WeakMap<Uint8Array, { readonly copy: Uint8Array; readonly value: T }>();
  return (key) => {
    const hit = cache.get(key);
    if (hit !== undefined && equalBytes(hit.copy, key)) return hit.value;
    const copy = new Uint8Array(key); // a copy even of a Buffer (whose slice() is a view)
    const value = derive(copy);
    cache.set(key, { copy, value });
    return value;
  };
}
