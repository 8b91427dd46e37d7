import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CryptoError } from '../errors.ts';
import {
  SignatureType,
  ed25519NoteSigner,
  ed25519NoteVerifier,
  formatSignerKey,
  formatVerifierKey,
  generateSignerKey,
  isValidKeyName,
  keyId,
  openNote,
  parseNote,
  parseSignerKey,
  parseVerifierKey,
  signNote,
  signerKeyFromSeed,
  verifierKeyOf,
} from './index.ts';

// Known answers from golang.org/x/mod/sumdb/note (package doc and note_test.go): the PeterNeumann key pair,
// its signature of the two-line text, and the EnochRoot co-signature of the same text.
const PETER_SKEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const PETER_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const ENOCH_VKEY = 'EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop';
const TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_LINE = '— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n';
const ENOCH_LINE = '— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n';
// Known answer of c2sp.org/signed-note's verifier-key example (example.com/foo).
const FOO_VKEY = 'example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k';
const FOO_NOTE = 'This is an example message.\n\n— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n';

const peter = () => ed25519NoteVerifier(parseVerifierKey(PETER_VKEY));
const enoch = () => ed25519NoteVerifier(parseVerifierKey(ENOCH_VKEY));

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof CryptoError) return e.code;
    return `untyped ${(e as Error).name}: ${(e as Error).message}`;
  }
  return 'accepted';
}

describe('signed note: known answers', () => {
  it('PeterNeumann: signer key signs the Go reference note byte for byte', () => {
    const sk = parseSignerKey(PETER_SKEY);
    expect(sk.keyId).toBe(0xc74f20a3);
    expect(signNote(TEXT, [ed25519NoteSigner(sk)])).toBe(TEXT + '\n' + PETER_LINE);
    expect(formatSignerKey(sk)).toBe(PETER_SKEY);
    expect(formatVerifierKey(verifierKeyOf(sk))).toBe(PETER_VKEY);
    expect(keyId('PeterNeumann', SignatureType.Ed25519, sk.publicKey)).toBe(0xc74f20a3);
  });

  it('PeterNeumann + EnochRoot: the doubly signed note opens with both keys, each listed once', () => {
    const msg = TEXT + '\n' + PETER_LINE + ENOCH_LINE;
    const opened = openNote(msg, [peter(), enoch()]);
    expect(opened.text).toBe(TEXT);
    expect(opened.verified.map((s) => s.name)).toEqual(['PeterNeumann', 'EnochRoot']);
    expect(openNote(msg, [peter()]).unknown.map((s) => s.name)).toEqual(['EnochRoot']);
  });

  it('c2sp.org/signed-note example key verifies its example note', () => {
    const k = parseVerifierKey(FOO_VKEY);
    expect(k.keyId).toBe(0x530d903a);
    expect(openNote(FOO_NOTE, [ed25519NoteVerifier(k)]).text).toBe('This is an example message.\n');
  });
});

describe('verifier and signer keys', () => {
  it('every proper substring and every single-character change of a vkey is rejected (as in Go TestNewVerifier)', () => {
    const b = PETER_VKEY;
    for (let i = 0; i <= b.length; i++) {
      for (let j = i + 1; j <= b.length; j++) {
        if (i === 0 && j === b.length) continue;
        expect(codeOf(() => parseVerifierKey(b.slice(i, j)))).toBe('INVALID_KEY');
      }
    }
    for (let i = 0; i < b.length; i++) {
      const mangled = b.slice(0, i) + String.fromCharCode(b.charCodeAt(i) + 1) + b.slice(i + 1);
      expect(codeOf(() => parseVerifierKey(mangled))).toBe('INVALID_KEY');
    }
  });

  it('rejects wrong prefixes, unknown types, wrong key lengths and mismatched IDs in signer keys', () => {
    expect(codeOf(() => parseSignerKey(PETER_SKEY.replace('PRIVATE', 'PUBLIC')))).toBe('INVALID_KEY');
    expect(codeOf(() => parseSignerKey(PETER_SKEY.replace('c74f20a3', 'c74f20a4')))).toBe('INVALID_KEY');
    expect(codeOf(() => parseSignerKey(PETER_VKEY))).toBe('INVALID_KEY');
    const sk = generateSignerKey('x.example/k');
    const s = formatSignerKey(sk);
    expect(codeOf(() => parseSignerKey(s + 'AA'))).toBe('INVALID_KEY');
    expect(codeOf(() => parseVerifierKey('x+00000000+AwEB'))).toBe('INVALID_KEY');
    expect(parseSignerKey(s).publicKey).toEqual(sk.publicKey);
  });

  it('type 0x04 keys round-trip and derive a different key ID than type 0x01 of the same key', () => {
    const seed = new Uint8Array(32).fill(7);
    const a = signerKeyFromSeed('w.example', SignatureType.Ed25519, seed);
    const c = signerKeyFromSeed('w.example', SignatureType.Ed25519Cosignature, seed);
    expect(a.keyId).not.toBe(c.keyId);
    expect(parseVerifierKey(formatVerifierKey(c))).toEqual(verifierKeyOf(c));
    expect(parseSignerKey(formatSignerKey(c)).type).toBe(4);
  });

  it('key names: non-empty, no Unicode space, no plus', () => {
    expect(isValidKeyName('example.com/log')).toBe(true);
    expect(isValidKeyName('grüße/ä')).toBe(true);
    for (const bad of ['', 'a b', 'a+b', 'a\u00a0b', 'a\u3000b', 'a\tb', 'a\u2028b', 'a\u0001b', '\ud800']) expect(isValidKeyName(bad)).toBe(false);
    expect(() => generateSignerKey('a b')).toThrow(TypeError);
  });
});

describe('parseNote is strict', () => {
  const good = TEXT + '\n' + PETER_LINE;
  const cases: [string, string | Uint8Array][] = [
    ['no blank line', TEXT + PETER_LINE],
    ['no final newline', good.slice(0, -1)],
    ['carriage return', good.replace('\n\n', '\r\n\n')],
    ['tab in text', good.replace('If you', 'If\tyou')],
    ['NUL in signature', good.replace('x08go', 'x\u000008go')],
    ['hyphen instead of em dash', good.replace('—', '-')],
    ['no space after name', good.replace('PeterNeumann ', 'PeterNeumann')],
    ['two spaces', good.replace('PeterNeumann ', 'PeterNeumann  ')],
    ['not base64', good.replace('x08go', 'x08g!')],
    ['non-canonical base64 (no padding)', good.replace('AM=\n', 'AM\n')],
    ['signature shorter than 5 bytes', TEXT + '\n— PeterNeumann AAAAAA==\n'],
    ['empty signature block', TEXT + '\n\n'],
    ['trailing blank line', good + '\n'],
    ['invalid UTF-8', new Uint8Array([...new TextEncoder().encode(good.slice(0, 10)), 0xff, ...new TextEncoder().encode(good.slice(10))])],
    ['lone surrogate', good.replace('If', 'I\ud800f')],
    ['101 signatures', TEXT + '\n' + PETER_LINE.repeat(101)],
    ['too large', 'a'.repeat(300 * 1024) + '\n\n' + PETER_LINE],
  ];
  it.each(cases)('%s → MALFORMED_INPUT', (_name, input) => {
    expect(codeOf(() => parseNote(input))).toBe('MALFORMED_INPUT');
    expect(codeOf(() => openNote(input, [peter()]))).toBe('MALFORMED_INPUT');
  });

  it('the text is split at the last blank line (the text may contain blank lines)', () => {
    const sk = generateSignerKey('k');
    const msg = signNote('a\n\nb\n', [ed25519NoteSigner(sk)]);
    expect(parseNote(msg).text).toBe('a\n\nb\n');
    expect(openNote(new TextEncoder().encode(msg), [ed25519NoteVerifier(verifierKeyOf(sk))]).text).toBe('a\n\nb\n');
  });

  it('100 signatures are accepted', () => {
    expect(parseNote(TEXT + '\n' + PETER_LINE.repeat(100)).signatures).toHaveLength(100);
  });
});

describe('openNote semantics', () => {
  const msg = TEXT + '\n' + PETER_LINE;
  it('unknown signatures are ignored, even with a known name or a known key ID (not both)', () => {
    const sameNameOtherKey = ed25519NoteVerifier(verifierKeyOf(generateSignerKey('PeterNeumann')));
    expect(codeOf(() => openNote(msg, [sameNameOtherKey]))).toBe('VERIFICATION_FAILED'); // nothing known → rejected
    const opened = openNote(msg + ENOCH_LINE.replace('EnochRoot', 'Enoch2'), [peter(), enoch()]);
    expect(opened.verified.map((s) => s.name)).toEqual(['PeterNeumann']);
    expect(opened.unknown.map((s) => s.name)).toEqual(['Enoch2']);
  });

  it('a bad signature by a known key rejects the whole note, even after a good one by the same key', () => {
    const forged = PETER_LINE.replace('x08go/ZJ', 'x08go/ZK');
    expect(codeOf(() => openNote(TEXT + '\n' + forged, [peter()]))).toBe('VERIFICATION_FAILED');
    expect(codeOf(() => openNote(msg + forged, [peter()]))).toBe('VERIFICATION_FAILED');
    expect(codeOf(() => openNote(msg + ENOCH_LINE.replace('WLox33', 'WLox34'), [peter(), enoch()]))).toBe('VERIFICATION_FAILED');
    expect(codeOf(() => openNote(msg.replace('cryptography', 'cryptographY'), [peter()]))).toBe('VERIFICATION_FAILED');
  });

  it('a key signing twice is listed once', () => {
    expect(openNote(msg + PETER_LINE, [peter()]).verified).toHaveLength(1);
  });

  it('two verifiers for one name and key ID are a configuration error', () => {
    expect(() => openNote(msg, [peter(), peter()])).toThrow(RangeError);
  });

  it('signNote replaces an earlier signature by the same key and keeps others', () => {
    const sk = parseSignerKey(PETER_SKEY);
    const other = parseNote(TEXT + '\n' + ENOCH_LINE + PETER_LINE).signatures;
    expect(signNote(TEXT, [ed25519NoteSigner(sk)], other)).toBe(TEXT + '\n' + ENOCH_LINE + PETER_LINE);
  });

  it('property: any valid text signed by random keys opens with those keys and round-trips through parse/format', () => {
    const keys = [generateSignerKey('a.example/1'), generateSignerKey('b.example/2')];
    const line = fc.string({ unit: 'grapheme', maxLength: 20 }).filter((s) => !/[\p{Cc}]/u.test(s));
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 5 }), (lines) => {
        const text = lines.join('\n') + '\n';
        const msg = signNote(text, keys.map(ed25519NoteSigner));
        const opened = openNote(msg, keys.map((k) => ed25519NoteVerifier(verifierKeyOf(k))));
        expect(opened.text).toBe(text);
        expect(opened.verified).toHaveLength(2);
      }),
      { numRuns: 100 },
    );
  });
});
