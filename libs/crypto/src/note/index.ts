// Signed notes (c2sp.org/signed-note) with Ed25519 keys. Formats: libs/crypto/README.md part C.
export { SignatureType, isValidKeyName, keyId, keyIdHex } from './key-id.ts';
export {
  formatSignerKey,
  formatVerifierKey,
  generateSignerKey,
  parseSignerKey,
  parseVerifierKey,
  signerKeyFromSeed,
  verifierKeyOf,
  type SignerKey,
  type VerifierKey,
} from './keys.ts';
export {
  MAX_NOTE_BYTES,
  MAX_NOTE_SIGNATURES,
  ed25519NoteSigner,
  ed25519NoteVerifier,
  formatNote,
  makeSignature,
  openNote,
  parseNote,
  signNote,
  type Note,
  type NoteSignature,
  type NoteSigner,
  type NoteVerifier,
  type OpenedNote,
} from './note.ts';
