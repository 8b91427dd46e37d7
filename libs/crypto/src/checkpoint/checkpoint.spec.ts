import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toBase64 } from '@merklesync/merkle';
import { CryptoError } from '../errors.ts';
import { SignatureType, formatVerifierKey, generateSignerKey, parseNote, signerKeyFromSeed, verifierKeyOf, type SignerKey } from '../note/index.ts';
import {
  cosignCheckpoint,
  cosignatureMessage,
  cosignatureTimestamp,
  createPolicy,
  defaultThreshold,
  formatCheckpoint,
  parseCheckpoint,
  parsePolicy,
  signCheckpoint,
  verifyCheckpoint,
  type Checkpoint,
  type CheckpointPolicy,
} from './index.ts';

// A real checkpoint of the arche2025h1 staging CT log (transparency.dev) with its Ed25519 log signature
// (type 0x01), an RFC 6962 signature line by the same name under another key ID (type 0x05: unknown here) and
// four witness cosignatures; remora.n621.de's is a type 0x04 cosignature checked with its published vkey.
const ARCHE_BODY = 'arche2025h1.staging.ct.transparency.dev\n1432088532\nU7WM79jrzyhGZ5/GUBTpM7NzwdyfFx61t3RovgcC4Ro=\n';
const ARCHE_NOTE =
  ARCHE_BODY +
  '\n' +
  '— arche2025h1.staging.ct.transparency.dev zTM8sQAAAZ5W0WdjBAMARjBEAiBjW5IQf9pvsYLfQFX6hoGREPMHbdQ3urbllzalApkptQIgIpwtEroeW2BXaHAI4kJXFbon5Ch9MNL5zRNZ55lvGt0=\n' +
  '— arche2025h1.staging.ct.transparency.dev ui8GwCF1+kWqZrxGdhj4aX3gcw7XUlXQQabg/27lefwhUkzbC3NygNI75MdhL1bfTW9g8Ei59RA23oHP7Ry1k3ZFWwQ=\n' +
  '— transparency.dev/DEV:witness-little-garden 2AQqhwAAAABqEiEgzgFIqqhbUoDwjMWE6UP8nd8/KYTzwZ2rhIgcqoXHAwVkjZr4AscylP3v7sEodkRAErumC2q44vdgJY096st5BQ==\n' +
  '— witness1.smartit.nu/witness1 pIyCDwAAAABqEiEghIp82KWebrw7/oHQwlTAm3g2RKS4+eebl8eO0WH+/iEcxZ75W3u5hNI7TOQtmJbqmNWVuE0tgh0XwzdZsDsUAQ==\n' +
  '— remora.n621.de 2net5wAAAABqEiEgPlfF3V06o0Y+fHM+J5J9s27wgxxcOVSpZ/2g/KSiXCg9DEZI+aVCIobWX9sXTynk5XeU/zZ0WBxtqB0DrAWfBw==\n' +
  '— witness.stagemole.eu Z/euoAAAAABqEiEgw0i+7g2ENfDAWHmtRzCfKTHSDwYDJA2NmKeGi9Y8FtEyOUvVr+AJmIY/2TUFucgKi7lI7cUiOvKFYe/TmN9DAg==\n';
const ARCHE_VKEY = 'arche2025h1.staging.ct.transparency.dev+ba2f06c0+AU0vHmlGCS/PdN8b2OaGmKprLI8HKM+dJ472xgFYh15f';
const REMORA_VKEY = 'remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2';

const T0 = 1_700_000_000_000;
const clockAt = (ms: number) => () => ms;
const seed = (i: number) => new Uint8Array(32).fill(i);
const LOG = signerKeyFromSeed('merklesync.example/log', SignatureType.Ed25519, seed(1));
const W = [2, 3, 4, 5, 6].map((i) => signerKeyFromSeed(`witness${i}.example/w`, SignatureType.Ed25519Cosignature, seed(i)));
const OUTSIDER = signerKeyFromSeed('outsider.example/w', SignatureType.Ed25519Cosignature, seed(9));
const CP: Checkpoint = {
  origin: 'merklesync.example/log',
  size: 1234,
  rootHash: new Uint8Array(32).fill(0xab),
  stateRoot: new Uint8Array(32).fill(0xcd),
  seq: 42,
};
const vk = (k: SignerKey) => formatVerifierKey(verifierKeyOf(k));

function cosignAll(note: string, keys: SignerKey[], at = T0): string {
  return keys.reduce((n, k) => cosignCheckpoint(n, k, clockAt(at)), note);
}
function policy(n: number, extra: Partial<Parameters<typeof createPolicy>[0]> = {}): CheckpointPolicy {
  return createPolicy({ log: vk(LOG), witnesses: W.slice(0, n).map(vk), ...extra });
}

describe('checkpoint body', () => {
  it('formats the tlog-checkpoint lines and our two extension lines', () => {
    expect(formatCheckpoint(CP)).toBe(
      `merklesync.example/log\n1234\n${toBase64(CP.rootHash)}\nmerklesync-state ${toBase64(CP.stateRoot!)}\nmerklesync-seq 42\n`,
    );
    expect(formatCheckpoint({ origin: 'o', size: 0, rootHash: CP.rootHash })).toBe(`o\n0\n${toBase64(CP.rootHash)}\n`);
  });

  it('parses a real generic checkpoint (no extension lines)', () => {
    const cp = parseCheckpoint(ARCHE_BODY);
    expect(cp).toMatchObject({ origin: 'arche2025h1.staging.ct.transparency.dev', size: 1432088532, stateRoot: undefined, seq: undefined, extensions: [] });
  });

  it('property: parse ∘ format is the identity, foreign extension lines kept after ours', () => {
    const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
    const ext = fc.string({ minLength: 1, maxLength: 12, unit: 'grapheme' }).filter((s) => !/[\p{Cc}]/u.test(s) && !s.startsWith('merklesync-'));
    fc.assert(
      fc.property(fc.nat(), bytes32, fc.option(fc.tuple(bytes32, fc.nat())), fc.array(ext, { maxLength: 3 }), (size, root, ours, extensions) => {
        const cp: Checkpoint = { origin: 'x.example/log', size, rootHash: root, stateRoot: ours?.[0], seq: ours?.[1], extensions };
        const text = formatCheckpoint(cp);
        expect(formatCheckpoint(parseCheckpoint(text))).toBe(text);
        expect(parseCheckpoint(text)).toEqual({ ...cp, stateRoot: ours?.[0], seq: ours?.[1] });
      }),
    );
  });

  const root = toBase64(CP.rootHash);
  const malformed: [string, string][] = [
    ['two lines', `o\n1\n`],
    ['no final newline', `o\n1\n${root}`],
    ['empty origin', `\n1\n${root}\n`],
    ['leading zero size', `o\n01\n${root}\n`],
    ['signed size', `o\n+1\n${root}\n`],
    ['size with space', `o\n1 \n${root}\n`],
    ['size beyond 2^53', `o\n9007199254740993\n${root}\n`],
    ['root of 31 bytes', `o\n1\n${toBase64(new Uint8Array(31))}\n`],
    ['root non-canonical base64', `o\n1\n${root.slice(0, -2)}9=\n`],
    ['empty extension line', `o\n1\n${root}\n\n`],
    ['state without seq', `o\n1\n${root}\nmerklesync-state ${root}\n`],
    ['seq without state', `o\n1\n${root}\nmerklesync-seq 1\n`],
    ['seq before state', `o\n1\n${root}\nmerklesync-seq 1\nmerklesync-state ${root}\n`],
    ['state after foreign extension', `o\n1\n${root}\nfoo\nmerklesync-state ${root}\nmerklesync-seq 1\n`],
    ['seq leading zero', `o\n1\n${root}\nmerklesync-state ${root}\nmerklesync-seq 007\n`],
    ['double space', `o\n1\n${root}\nmerklesync-state  ${root}\nmerklesync-seq 7\n`],
    ['unknown merklesync line', `o\n1\n${root}\nmerklesync-state ${root}\nmerklesync-seq 7\nmerklesync-foo 1\n`],
    ['control character', `o\u0007\n1\n${root}\n`],
  ];
  it.each(malformed)('%s → MALFORMED_INPUT', (_n, text) => {
    expect(() => parseCheckpoint(text)).toThrow(expect.objectContaining({ code: 'MALFORMED_INPUT' }) as Error);
  });

  it('formatCheckpoint checks its fields', () => {
    expect(() => formatCheckpoint({ ...CP, origin: 'a b' })).toThrow(TypeError);
    expect(() => formatCheckpoint({ ...CP, size: -1 })).toThrow(RangeError);
    expect(() => formatCheckpoint({ ...CP, seq: undefined })).toThrow(TypeError);
    expect(() => formatCheckpoint({ ...CP, extensions: ['merklesync-x'] })).toThrow(RangeError);
  });
});

describe('cosignatures (c2sp.org/tlog-cosignature, Ed25519)', () => {
  it('a real checkpoint: log signature and remora.n621.de cosignature verify; foreign lines are ignored', () => {
    const p = createPolicy({ log: ARCHE_VKEY, witnesses: [REMORA_VKEY] });
    const r = verifyCheckpoint(ARCHE_NOTE, p);
    expect(r).toMatchObject({ ok: true, weight: 1, threshold: 1 });
    if (r.ok) expect(r.cosignatures).toEqual([{ name: 'remora.n621.de', keyId: 0xda77ade7, weight: 1, timestamp: 1779573024, counted: true }]);
    // The size changed: both the log signature and the cosignature fail.
    expect(verifyCheckpoint(ARCHE_NOTE.replace('1432088532', '1432088533'), p)).toMatchObject({ ok: false, code: 'VERIFICATION_FAILED' });
  });

  it('signed message is "cosignature/v1\\ntime T\\n" + body', () => {
    expect(new TextDecoder().decode(cosignatureMessage('o\n1\nAA==\n', 1679315147))).toBe('cosignature/v1\ntime 1679315147\no\n1\nAA==\n');
  });

  it('cosign appends one 72-byte line (key ID 0x04-derived, u64 BE seconds, signature) and replaces its own earlier one', () => {
    const note = signCheckpoint(CP, LOG);
    const once = cosignCheckpoint(note, W[0]!, clockAt(T0 + 999));
    const sig = parseNote(once).signatures[1]!;
    expect(sig.keyId).toBe(W[0]!.keyId);
    expect(sig.signature).toHaveLength(72);
    expect(cosignatureTimestamp(sig.signature)).toBe(Math.floor(T0 / 1000));
    const twice = cosignCheckpoint(once, W[0]!, clockAt(T0 + 5000));
    expect(parseNote(twice).signatures).toHaveLength(2);
    expect(cosignatureTimestamp(parseNote(twice).signatures[1]!.signature)).toBe(T0 / 1000 + 5);
    expect(() => cosignCheckpoint(note, LOG)).toThrow(RangeError); // a log key (0x01) cannot cosign
    expect(() => cosignCheckpoint('hello\n\n— x AAAAAAA=\n', W[0]!)).toThrow(CryptoError);
  });
});

describe('verifier policy', () => {
  const signed = signCheckpoint(CP, LOG);

  it('default threshold is strictly more than 2/3 of the whole set', () => {
    expect([1, 2, 3, 4, 5, 6, 9].map(defaultThreshold)).toEqual([1, 2, 3, 3, 4, 5, 7]);
    expect(policy(3).threshold).toBe(3);
  });

  it('exactly 2/3 of the weight is not enough; more is', () => {
    // 3 witnesses of weight 1: 2 = exactly 2/3 → rejected; 3 → accepted.
    expect(verifyCheckpoint(cosignAll(signed, W.slice(0, 2)), policy(3))).toMatchObject({ ok: false, code: 'VERIFICATION_FAILED' });
    expect(verifyCheckpoint(cosignAll(signed, W.slice(0, 3)), policy(3))).toMatchObject({ ok: true, weight: 3 });
    // 6 witnesses: 4 = exactly 2/3 → rejected; 5 → accepted (the 6th did not sign: total counts the whole set).
    const six = createPolicy({ log: vk(LOG), witnesses: [...W, OUTSIDER].map(vk) });
    expect(six.threshold).toBe(5);
    expect(verifyCheckpoint(cosignAll(signed, W.slice(0, 4)), six).ok).toBe(false);
    expect(verifyCheckpoint(cosignAll(signed, W.slice(0, 5)), six).ok).toBe(true);
  });

  it('weights: the sum of the signers, against 2/3 of the total weight', () => {
    const p = createPolicy({ log: vk(LOG), witnesses: [{ key: vk(W[0]!), weight: 5 }, ...W.slice(1, 5).map((k) => ({ key: vk(k), weight: 1 }))] });
    expect(p.totalWeight).toBe(9);
    expect(p.threshold).toBe(7);
    expect(verifyCheckpoint(cosignAll(signed, [W[0]!, W[1]!]), p).ok).toBe(false); // 6
    expect(verifyCheckpoint(cosignAll(signed, [W[0]!, W[1]!, W[2]!]), p)).toMatchObject({ ok: true, weight: 7 });
    expect(verifyCheckpoint(cosignAll(signed, W.slice(1, 5)), p).ok).toBe(false); // 4
  });

  it('the same key twice counts once', () => {
    const two = cosignAll(signed, W.slice(0, 2));
    const dup = parseNote(two).signatures[1]!;
    const withDup = two + `— ${dup.name} ${dup.base64}\n`;
    expect(parseNote(withDup).signatures).toHaveLength(4);
    expect(verifyCheckpoint(withDup, policy(3))).toMatchObject({ ok: false, code: 'VERIFICATION_FAILED' });
    // The same key under two names cannot enter a policy.
    const renamed = formatVerifierKey({ name: 'alias.example/w', type: 4, publicKey: W[0]!.publicKey });
    expect(() => createPolicy({ log: vk(LOG), witnesses: [vk(W[0]!), renamed] })).toThrow(/counts once/);
    // Nor can the same key at two different times (two lines, both valid) count twice.
    const later = cosignCheckpoint(two, W[0]!, clockAt(T0 + 60_000));
    const both = two + later.split('\n').filter((l) => l.startsWith(`— ${W[0]!.name}`)).join('\n') + '\n';
    expect(verifyCheckpoint(both, policy(3)).ok).toBe(false);
  });

  it('signatures by keys outside the policy do not count and are ignored', () => {
    const n = cosignAll(signed, [W[0]!, W[1]!, OUTSIDER]);
    expect(verifyCheckpoint(n, policy(3)).ok).toBe(false);
    const ok = cosignAll(signed, [OUTSIDER, ...W.slice(0, 3)]);
    expect(verifyCheckpoint(ok, policy(3))).toMatchObject({ ok: true, weight: 3 });
  });

  it('a forged cosignature by a policy witness rejects the note, even when the rest reach the threshold', () => {
    const n = cosignAll(signed, W.slice(0, 3));
    const threshold2 = createPolicy({ log: vk(LOG), witnesses: W.slice(0, 3).map(vk), threshold: 2 });
    expect(verifyCheckpoint(n, threshold2).ok).toBe(true);
    const line = parseNote(n).signatures[2]!;
    // Flip a bit in the Ed25519 signature (byte 20) and in the timestamp (byte 7 after the 4-byte key ID).
    for (const at of [4 + 20, 4 + 7]) {
      const raw = atobBytes(line.base64);
      raw[at]! ^= 1;
      const forged = n.replace(line.base64, toBase64(raw));
      expect(verifyCheckpoint(forged, threshold2)).toMatchObject({ ok: false, code: 'VERIFICATION_FAILED' });
    }
  });

  it('requires the log signature, the policy origin and a checkpoint body', () => {
    const body = formatCheckpoint(CP);
    const onlyWitnesses = cosignAll(signed, W.slice(0, 3)).split('\n').filter((l) => !l.startsWith(`— ${LOG.name}`)).join('\n');
    expect(verifyCheckpoint(onlyWitnesses, policy(3))).toMatchObject({ ok: false, code: 'VERIFICATION_FAILED' });
    const otherOrigin = policy(3, { origin: 'other.example/log' });
    expect(verifyCheckpoint(cosignAll(signed, W.slice(0, 3)), otherOrigin)).toMatchObject({ ok: false, code: 'VERIFICATION_FAILED' });
    const otherLog = signerKeyFromSeed('merklesync.example/log', 1, seed(77));
    expect(verifyCheckpoint(cosignAll(signCheckpoint(CP, otherLog), W.slice(0, 3)), policy(3)).ok).toBe(false);
    expect(verifyCheckpoint(body, policy(3))).toMatchObject({ ok: false, code: 'MALFORMED_INPUT' });
    expect(verifyCheckpoint('garbage', policy(3))).toMatchObject({ ok: false, code: 'MALFORMED_INPUT' });
  });

  it('every bit flip of a signed, cosigned checkpoint is rejected (threshold = all signers)', () => {
    const n = new TextEncoder().encode(cosignAll(signed, W.slice(0, 3)));
    const p = policy(3);
    expect(verifyCheckpoint(n, p).ok).toBe(true);
    let rejected = 0;
    for (let i = 0; i < n.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const m = n.slice();
        m[i]! ^= 1 << bit;
        const r = verifyCheckpoint(m, p);
        if (r.ok) throw new Error(`accepted a flip of bit ${bit} of byte ${i}`);
        rejected++;
      }
    }
    expect(rejected).toBe(n.length * 8);
  });

  it('max cosignature age and clock skew (injectable clock): stale or future cosignatures do not count', () => {
    const n = cosignAll(signed, W.slice(0, 3), T0);
    const p = policy(3, { maxCosignatureAgeSeconds: 3600, maxClockSkewSeconds: 60 });
    expect(verifyCheckpoint(n, p, { clock: clockAt(T0 + 3_600_000) }).ok).toBe(true);
    const stale = verifyCheckpoint(n, p, { clock: clockAt(T0 + 3_601_000) });
    expect(stale).toMatchObject({ ok: false, code: 'VERIFICATION_FAILED' });
    expect(verifyCheckpoint(n, p, { clock: clockAt(T0 - 61_000) }).ok).toBe(false);
    expect(verifyCheckpoint(n, p, { clock: clockAt(T0 - 60_000) }).ok).toBe(true);
  });

  it('policy validation', () => {
    expect(() => createPolicy({ log: vk(W[0]!), witnesses: [] , threshold: 0 })).toThrow(/type 0x01/);
    expect(() => createPolicy({ log: vk(LOG), witnesses: [vk(LOG)] })).toThrow(RangeError);
    const type1Witness = formatVerifierKey({ name: 'w.example', type: 1, publicKey: W[0]!.publicKey });
    expect(() => createPolicy({ log: vk(LOG), witnesses: [type1Witness] })).toThrow(/type 0x04/);
    expect(() => createPolicy({ log: vk(LOG), witnesses: [] })).toThrow(/explicit threshold/);
    expect(createPolicy({ log: vk(LOG), witnesses: [], threshold: 0 }).threshold).toBe(0);
    expect(() => policy(3, { threshold: 4 })).toThrow(RangeError);
    expect(() => createPolicy({ log: vk(LOG), witnesses: [{ key: vk(W[0]!), weight: 0 }] })).toThrow(RangeError);
    expect(() => createPolicy({ log: vk(LOG), witnesses: [{ key: vk(W[0]!), weight: 1.5 }] })).toThrow(RangeError);
  });

  it('policy file: JSON with vkey strings, weights and options; strict', () => {
    const json = JSON.stringify({ version: 1, origin: CP.origin, log: vk(LOG), witnesses: [vk(W[0]!), { vkey: vk(W[1]!), weight: 2 }], threshold: 3, maxCosignatureAgeSeconds: 600 });
    const p = parsePolicy(json);
    expect(p).toMatchObject({ origin: CP.origin, totalWeight: 3, threshold: 3, maxCosignatureAgeSeconds: 600 });
    const bad = (o: unknown) => {
      try {
        parsePolicy(typeof o === 'string' ? o : JSON.stringify(o));
        return 'accepted';
      } catch (e) {
        return e instanceof CryptoError ? e.code : 'untyped';
      }
    };
    const base = { version: 1, log: vk(LOG), witnesses: [vk(W[0]!)] };
    expect(bad(base)).toBe('accepted');
    expect(bad('{')).toBe('MALFORMED_INPUT');
    expect(bad([])).toBe('MALFORMED_INPUT');
    expect(bad({ ...base, version: 2 })).toBe('MALFORMED_INPUT');
    expect(bad({ ...base, extra: 1 })).toBe('MALFORMED_INPUT');
    expect(bad({ ...base, witnesses: [{ vkey: vk(W[0]!), weight: '2' }] })).toBe('MALFORMED_INPUT');
    expect(bad({ ...base, witnesses: [{ vkey: vk(W[0]!), wieght: 2 }] })).toBe('MALFORMED_INPUT');
    expect(bad({ ...base, witnesses: [vk(W[0]!), vk(W[0]!)] })).toBe('MALFORMED_INPUT');
    expect(bad({ ...base, threshold: 2 })).toBe('MALFORMED_INPUT');
    expect(bad({ ...base, log: 'nonsense' })).toBe('INVALID_KEY');
    expect(bad({ ...base, witnesses: [vk(W[0]!).slice(0, -2) + 'AA'] })).toBe('INVALID_KEY');
  });

  it('a generated log key whose name differs from the origin works when the policy names the origin', () => {
    const k = generateSignerKey('log-key-2025');
    const n = cosignAll(signCheckpoint(CP, k), W.slice(0, 1));
    expect(verifyCheckpoint(n, createPolicy({ origin: CP.origin, log: vk(k), witnesses: [vk(W[0]!)] })).ok).toBe(true);
  });
});

function atobBytes(b64: string): Uint8Array {
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

describe('worked example of README.md part C (pins the documented bytes)', () => {
  it('keys, signed checkpoint and cosignature are byte for byte as documented', () => {
    const log = signerKeyFromSeed('log.example/orders', SignatureType.Ed25519, seed(1));
    const w = signerKeyFromSeed('w1.example', SignatureType.Ed25519Cosignature, seed(2));
    expect(vk(log)).toBe('log.example/orders+93ce7a52+AYqI4910CfGV/VLbLTy6XXLKZwm/HZQSG/N0iAG0D29c');
    expect(vk(w)).toBe('w1.example+c244f014+BIE5dw6ofRdfVqNUZsNMfszLjYqRtO43ol32D1uPybOU');
    const note = signCheckpoint({ origin: 'log.example/orders', size: 5, rootHash: new Uint8Array(32).fill(0xab), stateRoot: new Uint8Array(32).fill(0xcd), seq: 7 }, log);
    const cosigned = cosignCheckpoint(note, w, () => 1_700_000_000_000);
    expect(cosigned).toBe(
      'log.example/orders\n5\nq6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\nmerklesync-state zc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc3Nzc0=\nmerklesync-seq 7\n\n' +
        '— log.example/orders k856UjSDoh/oIy06gmKihAPZBfB1Uqn7GU2Z60Y58pgsUHS5juXHIX7vdoBoIz4R0BdXlJ/5FQLhAzNjgvgovuV+ugo=\n' +
        '— w1.example wkTwFAAAAABlU/EAei1c7HCev3EFz7fp/nSuLi3kK4ZKsJe/lRPhGXadQZqjRjfwDBIO8hej1TqPIFd3IVeN1/i3tmHu+dkPT6UYDQ==\n',
    );
    expect(verifyCheckpoint(cosigned, createPolicy({ log: vk(log), witnesses: [vk(w)] })).ok).toBe(true);
  });
});
