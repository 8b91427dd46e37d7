import type { SignerKey } from '../note/keys.ts';
import { ed25519NoteSigner, signNote } from '../note/note.ts';
import { formatCheckpoint, type Checkpoint } from './body.ts';

/**
 * Formats a checkpoint and signs it with the log's Ed25519 key (type 0x01): a signed note with one signature line.
 * @throws TypeError / RangeError for a bad checkpoint field or a key that is not of type 0x01.
 * @example signCheckpoint({ origin: sk.name, size, rootHash, stateRoot, seq }, sk)
 */
export function signCheckpoint(checkpoint: Checkpoint, logKey: SignerKey): string {
  return signNote(formatCheckpoint(checkpoint), [ed25519NoteSigner(logKey)]);
}
