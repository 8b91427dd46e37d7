import { toHex } from '@merklesync/merkle';
import { _now, systemClock, type Clock } from '../checkpoint/clock.ts';

/** What a server remembers of a challenge it issued. */
export interface ChallengeRecord {
  readonly audience: string;
  readonly issuedAt: number;
  readonly expiresAt: number;
  /** The device's nonce for mutual authentication, or empty. */
  readonly clientNonce: Uint8Array;
}

/**
 * Where a server keeps issued challenges until they are used (the replay cache). A shared implementation (Redis,
 * a database) must make `markUsed` an atomic test-and-set, so that of two concurrent uses of one nonce exactly
 * one wins.
 */
export interface ChallengeStore {
  /** Remembers a challenge under its nonce until `retainUntil` (ms); later it may be forgotten. */
  put(nonce: Uint8Array, record: ChallengeRecord, retainUntil: number): void | Promise<void>;
  /** The record and whether it was used; undefined when never issued (or already forgotten). */
  get(nonce: Uint8Array): { readonly record: ChallengeRecord; readonly used: boolean } | undefined | Promise<{ readonly record: ChallengeRecord; readonly used: boolean } | undefined>;
  /** Marks the nonce used; true only for the call that did so (false: unknown or already used). */
  markUsed(nonce: Uint8Array): boolean | Promise<boolean>;
}

interface _Entry {
  record: ChallengeRecord;
  used: boolean;
  retainUntil: number;
}

/**
 * An in-memory ChallengeStore for one process: entries are dropped once past `retainUntil` (checked lazily on
 * every put) and, beyond `maxEntries`, oldest first (an evicted challenge can no longer be answered — never
 * accepted twice).
 * @example new HandshakeServer({ audience, store: new MemoryChallengeStore() })
 */
export class MemoryChallengeStore implements ChallengeStore {
  private readonly _entries = new Map<string, _Entry>();
  private readonly _clock: Clock;
  private readonly _max: number;

  /** @throws RangeError when maxEntries is not a positive integer. */
  constructor(options: { clock?: Clock; maxEntries?: number } = {}) {
    this._clock = options.clock ?? systemClock;
    this._max = options.maxEntries ?? 100_000;
    if (!Number.isSafeInteger(this._max) || this._max < 1) throw new RangeError('maxEntries must be a positive integer');
  }

  /** Number of remembered challenges (for tests and metrics). */
  get size(): number {
    return this._entries.size;
  }

  put(nonce: Uint8Array, record: ChallengeRecord, retainUntil: number): void {
    const now = _now(this._clock);
    for (const [k, e] of this._entries) if (e.retainUntil < now) this._entries.delete(k);
    while (this._entries.size >= this._max) this._entries.delete(this._entries.keys().next().value!);
    this._entries.set(toHex(nonce), { record, used: false, retainUntil });
  }

  get(nonce: Uint8Array): { record: ChallengeRecord; used: boolean } | undefined {
    const e = this._entries.get(toHex(nonce));
    return e && { record: e.record, used: e.used };
  }

  markUsed(nonce: Uint8Array): boolean {
    const e = this._entries.get(toHex(nonce));
    if (!e || e.used) return false;
    e.used = true;
    return true;
  }
}
