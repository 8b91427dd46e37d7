import { equalBytes } from '@merklesync/merkle';
import { getCryptoBackend } from '../backend/index.ts';
import { _now, systemClock, type Clock } from '../checkpoint/clock.ts';
import { CryptoError, CryptoErrorCode } from '../errors.ts';
import { _utf8 } from '../note/_util.ts';
import { deviceIdOf, type DeviceIdentity } from './identity.ts';
import { MAX_AUDIENCE_BYTES, decodeChallenge, decodeResponse, type HandshakeChallenge, type HandshakeResponse } from './messages.ts';
import type { ChallengeStore } from './store.ts';
import { handshakeTranscript } from './transcript.ts';

/** An authenticated device. */
export interface AuthenticatedDevice {
  readonly deviceId: string;
  readonly publicKey: Uint8Array;
}

/** Options of a HandshakeServer. */
export interface HandshakeServerOptions {
  /** The server's identity; devices sign it, so a response for another server is worthless here. */
  readonly audience: string;
  readonly store: ChallengeStore;
  /** Lifetime of a challenge (default 60 s). */
  readonly ttlMs?: number;
  readonly clock?: Clock;
  readonly random?: (n: number) => Uint8Array;
  /** The server's Ed25519 seed: with it, challenges answer a device nonce with a server signature (mutual auth). */
  readonly serverSeed?: Uint8Array;
}

const _MAX_TTL_MS = 24 * 60 * 60 * 1000;

function _err(code: CryptoErrorCode, reason: string): never {
  throw new CryptoError(code, reason);
}

/**
 * The verifying side of the device handshake: issues challenges (random 32-byte nonce, issuedAt, expiresAt,
 * audience) and verifies responses — signature over the framed transcript, expiry, and that the nonce was issued
 * here and is used once.
 * @example const srv = new HandshakeServer({ audience: 'gw.example', store: new MemoryChallengeStore() });
 *   const ch = await srv.issueChallenge(); … const dev = await srv.verifyResponse(responseBytes);
 */
export class HandshakeServer {
  private readonly _o: Required<Omit<HandshakeServerOptions, 'serverSeed'>> & { serverSeed?: Uint8Array; serverPublicKey?: Uint8Array };

  /** @throws TypeError / RangeError for a bad audience, ttl or seed. */
  constructor(options: HandshakeServerOptions) {
    const aud = _utf8(options.audience ?? '', 'audience');
    if (aud.length === 0 || aud.length > MAX_AUDIENCE_BYTES) throw new RangeError(`audience must be 1..${MAX_AUDIENCE_BYTES} UTF-8 bytes`);
    const ttlMs = options.ttlMs ?? 60_000;
    if (!Number.isSafeInteger(ttlMs) || ttlMs < 1 || ttlMs > _MAX_TTL_MS) throw new RangeError('ttlMs must be 1 ms .. 24 h');
    if (typeof options.store?.put !== 'function') throw new TypeError('store must be a ChallengeStore');
    const b = getCryptoBackend();
    let serverPublicKey: Uint8Array | undefined;
    if (options.serverSeed !== undefined) {
      if (!(options.serverSeed instanceof Uint8Array) || options.serverSeed.length !== 32) throw new RangeError('serverSeed must be 32 bytes');
      serverPublicKey = b.ed25519PublicKey(options.serverSeed);
    }
    this._o = {
      audience: options.audience,
      store: options.store,
      ttlMs,
      clock: options.clock ?? systemClock,
      random: options.random ?? ((n) => b.randomBytes(n)),
      ...(options.serverSeed ? { serverSeed: options.serverSeed.slice(), serverPublicKey } : {}),
    };
  }

  /** The server's public key when it does mutual authentication. */
  get serverPublicKey(): Uint8Array | undefined {
    return this._o.serverPublicKey?.slice();
  }

  /**
   * Issues and remembers a challenge. With `clientNonce` (32 bytes from the device) and a server key, the
   * challenge carries the server's signature over the server-role transcript.
   * @throws RangeError for a clientNonce that is not 32 bytes; whatever the store throws.
   * @example const challenge = await server.issueChallenge(clientNonce)
   */
  async issueChallenge(clientNonce?: Uint8Array): Promise<HandshakeChallenge> {
    if (clientNonce !== undefined && (!(clientNonce instanceof Uint8Array) || clientNonce.length !== 32)) throw new RangeError('clientNonce must be 32 bytes');
    const o = this._o;
    const issuedAt = _now(o.clock);
    const expiresAt = issuedAt + o.ttlMs;
    const nonce = o.random(32);
    if (!(nonce instanceof Uint8Array) || nonce.length !== 32) throw new RangeError('random must return the requested number of bytes');
    // The device nonce is bound only when the server proves its key; otherwise the device signs an empty one.
    const mutual = clientNonce !== undefined && o.serverSeed !== undefined && o.serverPublicKey !== undefined;
    const cn = mutual ? clientNonce.slice() : new Uint8Array(0);
    // Kept one more TTL after expiry, so a late replay is reported as expired/replayed rather than unknown.
    await o.store.put(nonce, { audience: o.audience, issuedAt, expiresAt, clientNonce: cn }, expiresAt + o.ttlMs);
    const challenge: HandshakeChallenge = { audience: o.audience, nonce, issuedAt, expiresAt };
    if (!mutual || !o.serverSeed || !o.serverPublicKey) return challenge;
    const t = handshakeTranscript({ role: 'server', audience: o.audience, nonce, clientNonce: cn, issuedAt, expiresAt, publicKey: o.serverPublicKey });
    return { ...challenge, server: { clientNonce: cn, publicKey: o.serverPublicKey.slice(), signature: getCryptoBackend().ed25519Sign(o.serverSeed, t) } };
  }

  /**
   * Verifies a device's response (object or encoded bytes) and consumes its challenge.
   * @throws CryptoError: MALFORMED_INPUT (undecodable), VERIFICATION_FAILED (never issued here, or bad signature),
   *   EXPIRED (past expiresAt), REPLAYED (challenge already used).
   * @example const { deviceId } = await server.verifyResponse(bytes)
   */
  async verifyResponse(response: HandshakeResponse | Uint8Array): Promise<AuthenticatedDevice> {
    const r = response instanceof Uint8Array ? decodeResponse(response) : _checkResponse(response);
    const o = this._o;
    const entry = await o.store.get(r.nonce);
    if (!entry) _err(CryptoErrorCode.VerificationFailed, 'handshake: unknown challenge (not issued here, or long expired)');
    if (entry.used) _err(CryptoErrorCode.Replayed, 'handshake: challenge already used');
    const rec = entry.record;
    if (_now(o.clock) > rec.expiresAt) _err(CryptoErrorCode.Expired, 'handshake: challenge expired');
    const t = handshakeTranscript({ role: 'device', audience: rec.audience, nonce: r.nonce, clientNonce: rec.clientNonce, issuedAt: rec.issuedAt, expiresAt: rec.expiresAt, publicKey: r.publicKey });
    if (!getCryptoBackend().ed25519Verify(r.publicKey, t, r.signature)) _err(CryptoErrorCode.VerificationFailed, 'handshake: signature does not verify');
    // Test-and-set last: only a valid response consumes the challenge, and only one of two racing ones wins.
    if (!(await o.store.markUsed(r.nonce))) _err(CryptoErrorCode.Replayed, 'handshake: challenge already used');
    return { deviceId: deviceIdOf(r.publicKey), publicKey: r.publicKey.slice() };
  }
}

function _checkResponse(r: HandshakeResponse): HandshakeResponse {
  if (typeof r !== 'object' || r === null) throw new TypeError('response must be a HandshakeResponse or bytes');
  for (const [k, n] of [['nonce', 32], ['publicKey', 32], ['signature', 64]] as const) {
    const v = r[k];
    if (!(v instanceof Uint8Array) || v.length !== n) _err(CryptoErrorCode.MalformedInput, `response: ${k} must be ${n} bytes`);
  }
  return r;
}

/** Options of `respondToChallenge`. */
export interface RespondOptions {
  /** The server the device means to talk to; a challenge for another audience is refused. */
  readonly audience: string;
  /** Device clock for an early expiry check (default: wall clock); the server's check is the one that counts. */
  readonly clock?: Clock;
  /** Pinned server key: requires a valid server proof over `clientNonce` (mutual authentication). */
  readonly serverPublicKey?: Uint8Array;
  /** The 32-byte nonce the device sent with its challenge request (required with serverPublicKey). */
  readonly clientNonce?: Uint8Array;
}

/**
 * The device side: checks the challenge (audience, expiry, and the server's proof when a server key is pinned)
 * and signs the device-role transcript.
 * @throws CryptoError: MALFORMED_INPUT (undecodable), VERIFICATION_FAILED (wrong audience, missing or bad server
 *   proof), EXPIRED; RangeError for bad options.
 * @example const res = respondToChallenge(challengeBytes, me, { audience: 'gw.example' })
 */
export function respondToChallenge(challenge: HandshakeChallenge | Uint8Array, device: DeviceIdentity, options: RespondOptions): HandshakeResponse {
  const c = challenge instanceof Uint8Array ? decodeChallenge(challenge) : challenge;
  if (typeof options?.audience !== 'string') throw new TypeError('options.audience must be a string');
  if (!(device?.seed instanceof Uint8Array) || device.seed.length !== 32) throw new RangeError('device.seed must be 32 bytes');
  if (c.audience !== options.audience) _err(CryptoErrorCode.VerificationFailed, `handshake: challenge is for ${JSON.stringify(c.audience)}, not ${JSON.stringify(options.audience)}`);
  if (c.expiresAt <= c.issuedAt) _err(CryptoErrorCode.MalformedInput, 'handshake: challenge expires before it is issued');
  if (_now(options.clock ?? systemClock) > c.expiresAt) _err(CryptoErrorCode.Expired, 'handshake: challenge expired');
  let clientNonce: Uint8Array = new Uint8Array(0);
  if (options.serverPublicKey !== undefined) {
    if (options.clientNonce?.length !== 32) throw new RangeError('options.clientNonce must be 32 bytes with serverPublicKey');
    const s = c.server;
    if (!s) _err(CryptoErrorCode.VerificationFailed, 'handshake: server did not prove its key');
    if (!equalBytes(s.publicKey, options.serverPublicKey) || !equalBytes(s.clientNonce, options.clientNonce)) {
      _err(CryptoErrorCode.VerificationFailed, 'handshake: server proof is for another key or nonce');
    }
    const t = handshakeTranscript({ role: 'server', audience: c.audience, nonce: c.nonce, clientNonce: s.clientNonce, issuedAt: c.issuedAt, expiresAt: c.expiresAt, publicKey: s.publicKey });
    if (!getCryptoBackend().ed25519Verify(s.publicKey, t, s.signature)) _err(CryptoErrorCode.VerificationFailed, 'handshake: server signature does not verify');
    clientNonce = s.clientNonce;
  } else if (c.server) {
    clientNonce = c.server.clientNonce;
  }
  const publicKey = getCryptoBackend().ed25519PublicKey(device.seed);
  const t = handshakeTranscript({ role: 'device', audience: c.audience, nonce: c.nonce, clientNonce, issuedAt: c.issuedAt, expiresAt: c.expiresAt, publicKey });
  return { nonce: c.nonce.slice(), publicKey, signature: getCryptoBackend().ed25519Sign(device.seed, t) };
}
