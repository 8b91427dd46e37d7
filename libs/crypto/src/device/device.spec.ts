import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { toHex } from '@merklesync/merkle';
import { getCryptoBackend } from '../backend/index.ts';
import { CryptoError } from '../errors.ts';
import {
  HandshakeServer,
  MemoryChallengeStore,
  decodeChallenge,
  decodeResponse,
  deviceIdOf,
  deviceIdentityFromSeed,
  encodeChallenge,
  encodeResponse,
  handshakeTranscript,
  respondToChallenge,
} from './index.ts';

const T0 = 1_700_000_000_000;
class FakeClock {
  now = T0;
  readonly fn = (): number => this.now;
}
let counter = 0;
const random = (n: number): Uint8Array => new Uint8Array(n).fill(++counter & 255);
const device = deviceIdentityFromSeed(new Uint8Array(32).fill(0x11));
const AUD = 'gateway.merklesync.example';

function setup(opts: { serverSeed?: Uint8Array; ttlMs?: number } = {}) {
  const clock = new FakeClock();
  const store = new MemoryChallengeStore({ clock: clock.fn });
  const server = new HandshakeServer({ audience: AUD, store, clock: clock.fn, random, ...opts });
  return { clock, store, server };
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'accepted';
  } catch (e) {
    return e instanceof CryptoError ? e.code : `untyped ${String(e)}`;
  }
}

describe('device identity', () => {
  it('device ID = hex of SHA-256("merklesync/v1/device-id\\n" || publicKey)[0..16]', () => {
    const want = createHash('sha256').update('merklesync/v1/device-id\n').update(device.publicKey).digest().subarray(0, 16).toString('hex');
    expect(device.deviceId).toBe(want);
    expect(deviceIdOf(device.publicKey)).toBe(want);
    expect(() => deviceIdOf(new Uint8Array(31))).toThrow(RangeError);
  });
});

describe('handshake transcript', () => {
  it('is the documented length-framed byte string', () => {
    const nonce = new Uint8Array(32).fill(1);
    const t = handshakeTranscript({ role: 'device', audience: 'a', nonce, clientNonce: new Uint8Array(0), issuedAt: 1, expiresAt: 2, publicKey: device.publicKey });
    const frame = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
    const u64 = (n: number) => Buffer.from(n.toString(16).padStart(16, '0'), 'hex');
    const want = Buffer.concat([
      frame(Buffer.from('merklesync/v1/handshake')),
      frame(Buffer.from('device')),
      frame(Buffer.from('a')),
      frame(Buffer.from(nonce)),
      frame(Buffer.alloc(0)),
      frame(u64(1)),
      frame(u64(2)),
      frame(Buffer.from(device.publicKey)),
    ]);
    expect(toHex(t)).toBe(want.toString('hex'));
  });

  it('worked example of README.md part C (pins the documented bytes)', () => {
    const d = deviceIdentityFromSeed(new Uint8Array(32).fill(4));
    expect(toHex(d.publicKey)).toBe('ca93ac1705187071d67b83c7ff0efe8108e8ec4530575d7726879333dbdabe7c');
    expect(d.deviceId).toBe('b145e792c50aab6de86945937d2fc2fd');
    const t = handshakeTranscript({ role: 'device', audience: 'gw.example', nonce: new Uint8Array(32).fill(3), clientNonce: new Uint8Array(0), issuedAt: 1_700_000_000_000, expiresAt: 1_700_000_060_000, publicKey: d.publicKey });
    expect(toHex(t)).toBe(
      '000000176d65726b6c6573796e632f76312f68616e647368616b65' + '00000006646576696365' + '0000000a67772e6578616d706c65' + '00000020' + '03'.repeat(32) +
        '00000000' + '000000080000018bcfe56800' + '000000080000018bcfe65260' + '00000020' + toHex(d.publicKey),
    );
    expect(toHex(getCryptoBackend().ed25519Sign(d.seed, t))).toBe(
      '5b230ba0512e4daeeabc7dbba2e7c898e1c194ff9e2af203316582bf2be1676fd1863e0c7292a07e7937ba5c8d5f9bddea0d020f15b5504b9aa00924c0471f0b',
    );
  });
});

describe('challenge–response handshake', () => {
  it('authenticates a device once; the same response again is REPLAYED', async () => {
    const { server } = setup();
    const ch = await server.issueChallenge();
    const wire = encodeChallenge(ch);
    const res = encodeResponse(respondToChallenge(wire, device, { audience: AUD, clock: () => T0 }));
    const who = await server.verifyResponse(res);
    expect(who.deviceId).toBe(device.deviceId);
    expect(await code(server.verifyResponse(res))).toBe('REPLAYED');
  });

  it('an expired challenge is EXPIRED (server clock), also refused by the device', async () => {
    const { server, clock } = setup({ ttlMs: 30_000 });
    const ch = await server.issueChallenge();
    const res = respondToChallenge(ch, device, { audience: AUD, clock: () => T0 });
    clock.now = T0 + 30_001;
    expect(await code(server.verifyResponse(res))).toBe('EXPIRED');
    expect(() => respondToChallenge(ch, device, { audience: AUD, clock: () => T0 + 30_001 })).toThrow(expect.objectContaining({ code: 'EXPIRED' }) as Error);
    clock.now = T0 + 30_000; // the boundary itself is still valid
    expect((await server.verifyResponse(res)).deviceId).toBe(device.deviceId);
  });

  it('a nonce this server never issued is VERIFICATION_FAILED; one issued by another server too', async () => {
    const a = setup();
    const b = new HandshakeServer({ audience: 'other.example', store: new MemoryChallengeStore(), clock: () => T0, random });
    const chB = await b.issueChallenge();
    const res = respondToChallenge(chB, device, { audience: 'other.example', clock: () => T0 });
    expect(await code(a.server.verifyResponse(res))).toBe('VERIFICATION_FAILED');
    // A device refuses to sign a challenge of an audience it does not mean to talk to.
    expect(() => respondToChallenge(chB, device, { audience: AUD, clock: () => T0 })).toThrow(expect.objectContaining({ code: 'VERIFICATION_FAILED' }) as Error);
  });

  it('a response signed for another audience fails, even with the right nonce', async () => {
    const { server } = setup();
    const ch = await server.issueChallenge();
    const res = respondToChallenge({ ...ch, audience: 'evil.example' }, device, { audience: 'evil.example', clock: () => T0 });
    expect(await code(server.verifyResponse(res))).toBe('VERIFICATION_FAILED');
  });

  it('every bit flip of a response is rejected, and a rejected response does not burn the challenge', async () => {
    const { server } = setup();
    const ch = await server.issueChallenge();
    const res = encodeResponse(respondToChallenge(ch, device, { audience: AUD, clock: () => T0 }));
    for (let i = 0; i < res.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const m = res.slice();
        m[i]! ^= 1 << bit;
        const c = await code(server.verifyResponse(m));
        if (c === 'accepted') throw new Error(`accepted flip of bit ${bit} in byte ${i}`);
        expect(['MALFORMED_INPUT', 'VERIFICATION_FAILED']).toContain(c);
      }
    }
    expect((await server.verifyResponse(res)).deviceId).toBe(device.deviceId);
  });

  it('malformed responses and challenges are MALFORMED_INPUT', async () => {
    const { server } = setup();
    expect(await code(server.verifyResponse(new Uint8Array(128)))).toBe('MALFORMED_INPUT');
    expect(await code(server.verifyResponse(new Uint8Array(130)))).toBe('MALFORMED_INPUT');
    expect(await code(server.verifyResponse({ nonce: new Uint8Array(32), publicKey: new Uint8Array(32), signature: new Uint8Array(63) }))).toBe('MALFORMED_INPUT');
    const wire = encodeChallenge(await server.issueChallenge());
    expect(decodeChallenge(wire).audience).toBe(AUD);
    for (let n = 0; n < wire.length; n++) expect(() => decodeChallenge(wire.subarray(0, n))).toThrow(expect.objectContaining({ code: 'MALFORMED_INPUT' }) as Error);
    expect(() => decodeChallenge(new Uint8Array([...wire, 0]))).toThrow(CryptoError);
    const v2 = wire.slice();
    v2[0] = 2;
    expect(() => decodeChallenge(v2)).toThrow(CryptoError);
    expect(() => decodeResponse(new Uint8Array([2, ...new Uint8Array(128)]))).toThrow(CryptoError);
  });

  it('mutual authentication: the device checks the pinned server key over its own nonce', async () => {
    const serverSeed = new Uint8Array(32).fill(0x22);
    const { server } = setup({ serverSeed });
    const pinned = server.serverPublicKey!;
    const clientNonce = new Uint8Array(32).fill(0x33);
    const ch = decodeChallenge(encodeChallenge(await server.issueChallenge(clientNonce)));
    const res = respondToChallenge(ch, device, { audience: AUD, clock: () => T0, serverPublicKey: pinned, clientNonce });
    expect((await server.verifyResponse(res)).deviceId).toBe(device.deviceId);

    const ch2 = await server.issueChallenge(clientNonce);
    const otherNonce = new Uint8Array(32).fill(0x44);
    expect(() => respondToChallenge(ch2, device, { audience: AUD, clock: () => T0, serverPublicKey: pinned, clientNonce: otherNonce })).toThrow(expect.objectContaining({ code: 'VERIFICATION_FAILED' }) as Error);
    expect(() => respondToChallenge(ch2, device, { audience: AUD, clock: () => T0, serverPublicKey: new Uint8Array(32).fill(9), clientNonce })).toThrow(CryptoError);
    const badSig = { ...ch2, server: { ...ch2.server!, signature: ch2.server!.signature.map((x, i) => (i === 0 ? x ^ 1 : x)) } };
    expect(() => respondToChallenge(badSig, device, { audience: AUD, clock: () => T0, serverPublicKey: pinned, clientNonce })).toThrow(expect.objectContaining({ code: 'VERIFICATION_FAILED' }) as Error);
    const plain = setup();
    const plainCh = await plain.server.issueChallenge(clientNonce);
    expect(() => respondToChallenge(plainCh, device, { audience: AUD, clock: () => T0, serverPublicKey: pinned, clientNonce })).toThrow(/did not prove/);
  });

  it('the in-memory store forgets challenges after their retention and bounds its size', async () => {
    const clock = new FakeClock();
    const store = new MemoryChallengeStore({ clock: clock.fn, maxEntries: 3 });
    const server = new HandshakeServer({ audience: AUD, store, clock: clock.fn, random, ttlMs: 1000 });
    for (let i = 0; i < 5; i++) await server.issueChallenge();
    expect(store.size).toBe(3);
    clock.now += 2001;
    await server.issueChallenge();
    expect(store.size).toBe(1);
  });
});
