import { CryptoError, CryptoErrorCode } from '../errors.ts';
import { keyIdHex } from '../note/key-id.ts';
import { ed25519NoteVerifier, openNote, parseNote, type Note } from '../note/note.ts';
import { parseCheckpoint, type Checkpoint } from './body.ts';
import { _now, systemClock, type Clock } from './clock.ts';
import { cosignatureTimestamp, cosignatureVerifier } from './cosignature.ts';
import type { CheckpointPolicy } from './policy.ts';

/** A witness whose cosignature verified. `counted` says whether its weight went towards the threshold. */
export interface VerifiedCosignature {
  readonly name: string;
  readonly keyId: number;
  readonly weight: number;
  /** Seconds since the epoch, as the witness stamped it. */
  readonly timestamp: number;
  readonly counted: boolean;
  /** Why a valid cosignature did not count (too old / in the future). */
  readonly reason?: 'stale' | 'future';
}

/** Outcome of `verifyCheckpoint`: accepted with the evidence, or rejected with a typed code and a reason. */
export type CheckpointVerification =
  | {
      readonly ok: true;
      readonly checkpoint: Checkpoint;
      /** The verified note text (the checkpoint body). */
      readonly text: string;
      readonly cosignatures: readonly VerifiedCosignature[];
      /** Sum of the counted witnesses' weights (each key once). */
      readonly weight: number;
      readonly threshold: number;
    }
  | { readonly ok: false; readonly code: CryptoErrorCode; readonly reason: string };

/** Options of `verifyCheckpoint`. */
export interface VerifyCheckpointOptions {
  /** Read only when the policy limits cosignature age or clock skew. Default: the wall clock. */
  readonly clock?: Clock;
}

/**
 * Verifies a signed checkpoint note against a policy. Accepts only when: the note and its checkpoint body parse
 * strictly; the origin equals the policy's; the log's signature is present and valid; every signature line by a
 * key of the policy verifies (one bad line by a known key rejects the note, as c2sp.org/signed-note advises);
 * and the weights of the distinct witnesses with valid (and, if configured, fresh) cosignatures reach the
 * threshold. Signatures by keys outside the policy are ignored; a key signing twice counts once.
 * Never throws for bad input: malformed → MALFORMED_INPUT, anything else rejected → VERIFICATION_FAILED.
 * @throws TypeError only when `policy` is not a policy object (a programming error).
 * @example const r = verifyCheckpoint(noteText, policy); if (!r.ok) console.error(r.code, r.reason)
 */
export function verifyCheckpoint(note: string | Uint8Array, policy: CheckpointPolicy, options: VerifyCheckpointOptions = {}): CheckpointVerification {
  if (typeof policy !== 'object' || policy === null || !Array.isArray(policy.witnesses) || typeof policy.threshold !== 'number') {
    throw new TypeError('policy must be a CheckpointPolicy (createPolicy / parsePolicy)');
  }
  try {
    return _verify(note, policy, options);
  } catch (e) {
    if (e instanceof CryptoError) return { ok: false, code: e.code, reason: e.message };
    // Anything else here is a bug; it must still never read as acceptance.
    return { ok: false, code: CryptoErrorCode.VerificationFailed, reason: `internal error: ${e instanceof Error ? e.message : String(e)}` };
  }
}

function _fail(reason: string): never {
  throw new CryptoError(CryptoErrorCode.VerificationFailed, reason);
}

function _verify(input: string | Uint8Array, policy: CheckpointPolicy, options: VerifyCheckpointOptions): CheckpointVerification {
  const note: Note = parseNote(input);
  const checkpoint = parseCheckpoint(note.text);
  if (checkpoint.origin !== policy.origin) _fail(`checkpoint origin ${JSON.stringify(checkpoint.origin.slice(0, 80))} is not the policy's ${JSON.stringify(policy.origin)}`);
  const logId = `${policy.log.name}+${keyIdHex(policy.log.keyId)}`;
  const weights = new Map<string, number>();
  const verifiers = [ed25519NoteVerifier(policy.log)];
  for (const w of policy.witnesses) {
    verifiers.push(cosignatureVerifier(w.key));
    weights.set(`${w.key.name}+${keyIdHex(w.key.keyId)}`, w.weight);
  }
  // openNote checks every line by a known key (duplicates too) and lists each key once.
  const opened = openNote(note, verifiers);
  if (!opened.verified.some((s) => `${s.name}+${keyIdHex(s.keyId)}` === logId)) _fail(`no valid signature by the log key ${logId}`);
  const needClock = policy.maxCosignatureAgeSeconds !== undefined || policy.maxClockSkewSeconds !== undefined;
  const nowSec = needClock ? Math.floor(_now(options.clock ?? systemClock) / 1000) : 0;
  const cosignatures: VerifiedCosignature[] = [];
  let weight = 0;
  for (const s of opened.verified) {
    const id = `${s.name}+${keyIdHex(s.keyId)}`;
    const w = weights.get(id);
    if (w === undefined) continue; // the log's own signature
    const timestamp = cosignatureTimestamp(s.signature);
    if (timestamp === undefined) _fail(`cosignature by ${id}: timestamp beyond 2^53 - 1`);
    let reason: 'stale' | 'future' | undefined;
    if (policy.maxCosignatureAgeSeconds !== undefined && timestamp < nowSec - policy.maxCosignatureAgeSeconds) reason = 'stale';
    if (policy.maxClockSkewSeconds !== undefined && timestamp > nowSec + policy.maxClockSkewSeconds) reason = 'future';
    cosignatures.push({ name: s.name, keyId: s.keyId, weight: w, timestamp, counted: reason === undefined, ...(reason ? { reason } : {}) });
    if (reason === undefined) weight += w;
  }
  if (weight < policy.threshold) {
    _fail(`cosigned weight ${weight} is below the threshold ${policy.threshold} (of total ${policy.totalWeight})`);
  }
  return { ok: true, checkpoint, text: opened.text, cosignatures, weight, threshold: policy.threshold };
}
