// Master keys, keyrings, key files, passphrase KDFs, the KeyProvider port and per-table key derivation.
export { MASTER_KEY_BYTES, defaultRandom, generateMasterKey, masterKeyFromBase64, type RandomSource } from './master-key.ts';
export { Keyring, type KeyVersion } from './keyring.ts';
export { KEY_FILE_VERSION, MAX_KEY_FILE_CHARS, parseKeyFile, serializeKeyFile } from './key-file.ts';
export {
  PASSPHRASE_KDF_LIMITS,
  assertPassphraseParams,
  deriveMasterKeyFromPassphrase,
  newPassphraseParams,
  passphraseParamsFromJson,
  passphraseParamsToJson,
  type PassphraseKdfParams,
  type Pbkdf2Params,
  type ScryptParams,
} from './passphrase.ts';
export { LocalKeyProvider, type KeyProvider } from './provider.ts';
export { KEY_DERIVATION_LABELS, deriveDataKey, deriveSubkey, deriveTableSecret, tableSecretInfo } from './derive.ts';
export { KeyDeriver, type TableKeyRef } from './deriver.ts';
