import { createCipheriv, hkdfSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { getPortableCryptoBackend } from '../backend/index.ts';
import { CryptoError } from '../errors.ts';
import { Keyring, LocalKeyProvider, deriveDataKey, deriveTableSecret } from '../keys/index.ts';
import {
  BLOCK_TAG_BYTES,
  BlockArena,
  Envelope,
  MAX_BLOCK_BYTES,
  MAX_BLOCK_PLAINTEXT_BYTES,
  encodeRowBinding,
  openBlock,
  parseBlockHeader,
  sealBlock,
  type RowBinding,
} from './index.ts';

const bytes = (n: number, start = 0): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (start + i) & 255);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const master1 = bytes(32);
const master2 = bytes(32, 0x80);
const fixedNonce = (): Uint8Array => bytes(12, 0xc0);
const binding: RowBinding = { source: 'pg-main', table: 'public.users', primaryKey: Uint8Array.of(0x01, 0x02, 0x03), rowVersion: 42 };
const row = new TextEncoder().encode('{"id":1,"name":"Ada"}');

function u(n: number, width: 2 | 4 | 8): Buffer {
  const b = Buffer.alloc(width);
  if (width === 2) b.writeUInt16BE(n);
  else if (width === 4) b.writeUInt32BE(n);
  else b.writeBigUInt64BE(BigInt(n));
  return b;
}
// Independent reference of README.md part B §3–4 with node:crypto.
function refDataKey(master: Uint8Array, source: string, table: string): Buffer {
  const f = (s: string): Buffer => Buffer.concat([u(Buffer.byteLength(s), 2), Buffer.from(s)]);
  const ts = hkdfSync('sha256', master, Buffer.alloc(0), Buffer.concat([Buffer.from('merklesync/v1/table-secret\0'), f(source), f(table)]), 32);
  return Buffer.from(hkdfSync('sha256', Buffer.from(ts), Buffer.alloc(0), Buffer.from('merklesync/v1/data-key'), 32));
}
function refSeal(master: Uint8Array, kid: string, version: number, nonce: Uint8Array, b: RowBinding, plaintext: Uint8Array): Buffer {
  const header = Buffer.concat([Buffer.from('MSEB'), Buffer.from([1, 1, kid.length]), Buffer.from(kid), u(version, 4), nonce, u(plaintext.length, 4)]);
  const f = (s: string): Buffer => Buffer.concat([u(Buffer.byteLength(s), 2), Buffer.from(s)]);
  const aad = Buffer.concat([header, f(b.source), f(b.table), u(b.primaryKey.length, 4), b.primaryKey, u(Number(b.rowVersion), 8)]);
  const c = createCipheriv('aes-256-gcm', refDataKey(master, b.source, b.table), nonce);
  c.setAAD(aad);
  return Buffer.concat([header, c.update(plaintext), c.final(), c.getAuthTag()]);
}

function provider(...versions: Uint8Array[]): LocalKeyProvider {
  return new LocalKeyProvider([new Keyring('prod-1', versions.map((key, i) => ({ version: i + 1, key, created: '2025-01-01T00:00:00Z' })))]);
}
function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    return e instanceof CryptoError ? e.code : (e as Error).name;
  }
  return 'accepted';
}
async function asyncCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return e instanceof CryptoError ? e.code : (e as Error).name;
  }
  return 'accepted';
}
const keyFor = (master: Uint8Array) => (_kid: string, _v: number, b: RowBinding): Uint8Array => deriveDataKey(deriveTableSecret(master, b.source, b.table));

describe('block format (known answers from an independent implementation)', () => {
  it('sealBlock and Envelope produce exactly the documented bytes', async () => {
    const want = refSeal(master1, 'prod-1', 1, fixedNonce(), binding, row);
    const key = refDataKey(master1, binding.source, binding.table);
    expect(hex(sealBlock({ kid: 'prod-1', version: 1, key }, binding, row, { random: fixedNonce }))).toBe(want.toString('hex'));
    const env = new Envelope({ provider: provider(master1), kid: 'prod-1', random: fixedNonce });
    expect(hex(await env.encrypt(binding, row))).toBe(want.toString('hex'));
    expect(hex(sealBlock({ kid: 'prod-1', version: 1, key }, binding, row, { random: fixedNonce, backend: getPortableCryptoBackend() }))).toBe(want.toString('hex'));
    expect(await env.decrypt(want, binding)).toEqual(row);
  });

  it('kids checked once are remembered: many kids (past the cache bound), repeated, give the reference bytes; a bad kid throws every time', () => {
    const key = refDataKey(master1, binding.source, binding.table);
    const kids = Array.from({ length: 150 }, (_, i) => `k-${i}.${'x'.repeat(i % 40)}`);
    for (let round = 0; round < 3; round++) {
      for (const [i, kid] of kids.entries()) {
        const version = 1 + ((i * 7919) % 100_000) * 4096; // bytes in every position of the u32
        const block = sealBlock({ kid, version, key }, binding, row, { random: fixedNonce });
        expect(hex(block)).toBe(refSeal(master1, kid, version, fixedNonce(), binding, row).toString('hex'));
        expect(parseBlockHeader(block).kid).toBe(kid);
      }
      for (const bad of ['', 'has space', 'ü', 'x'.repeat(65)]) {
        expect(codeOf(() => sealBlock({ kid: bad, version: 1, key }, binding, row))).toBe('RangeError');
      }
    }
    // The remembered bytes are shared, never handed out: writing into a block leaves the next header intact.
    const a = sealBlock({ kid: 'k-1.x', version: 1, key }, binding, row, { random: fixedNonce });
    a.fill(0);
    expect(hex(sealBlock({ kid: 'k-1.x', version: 1, key }, binding, row, { random: fixedNonce }))).toBe(refSeal(master1, 'k-1.x', 1, fixedNonce(), binding, row).toString('hex'));
  });

  it('with a BlockArena, sealBlock writes the same bytes into views of shared chunks that never overlap', () => {
    const want = refSeal(master1, 'prod-1', 1, fixedNonce(), binding, row);
    const key = refDataKey(master1, binding.source, binding.table);
    const arena = new BlockArena(1024);
    const blocks = Array.from({ length: 40 }, () => sealBlock({ kid: 'prod-1', version: 1, key }, binding, row, { random: fixedNonce, arena }));
    for (const b of blocks) expect(hex(b)).toBe(want.toString('hex'));
    // Views into 1 KiB chunks, side by side within a chunk: the first ones share one buffer, in order.
    expect(blocks[0]!.buffer.byteLength).toBe(1024);
    expect(blocks[1]!.buffer).toBe(blocks[0]!.buffer);
    expect(blocks[1]!.byteOffset).toBe(blocks[0]!.byteOffset + want.length);
    // No two blocks overlap (writing one never changes another), and each decrypts.
    const spans = blocks.map((b) => [b.buffer, b.byteOffset, b.byteOffset + b.length] as const);
    for (let i = 0; i < spans.length; i++) for (let j = i + 1; j < spans.length; j++) if (spans[i]![0] === spans[j]![0]) expect(spans[i]![2] <= spans[j]![1] || spans[j]![2] <= spans[i]![1]).toBe(true);
    for (const b of blocks) expect(openBlock(b, binding, () => key)).toEqual(row);
    // A block above a quarter of a chunk gets its own array; the arena refuses odd chunk sizes.
    const big = sealBlock({ kid: 'prod-1', version: 1, key }, binding, bytes(400), { arena });
    expect(big.byteOffset).toBe(0);
    expect(big.buffer.byteLength).toBe(big.length);
    expect(openBlock(big, binding, () => key)).toEqual(bytes(400));
    expect(codeOf(() => new BlockArena(1000))).toBe('RangeError');
    expect(codeOf(() => new BlockArena(1024.5))).toBe('RangeError');
    expect(codeOf(() => new BlockArena((16 << 20) + 1))).toBe('RangeError');
  });

  it('pins the worked example of README.md part B', () => {
    const block = refSeal(master1, 'prod-1', 1, fixedNonce(), binding, row);
    expect(block.toString('hex')).toBe(DOC_BLOCK);
    expect(hex(encodeRowBinding(binding))).toBe('0007' + Buffer.from('pg-main').toString('hex') + '000c' + Buffer.from('public.users').toString('hex') + '00000003010203' + '000000000000002a');
  });

  it('parseBlockHeader reads the header fields', () => {
    const block = refSeal(master1, 'prod-1', 7, fixedNonce(), binding, row);
    expect(parseBlockHeader(block)).toEqual({ formatVersion: 1, algorithm: 1, kid: 'prod-1', keyVersion: 7, nonce: fixedNonce(), plaintextLength: row.length, headerLength: 33 });
  });

  it('row versions up to 2^64 - 1 are bound (bigint)', () => {
    const key = refDataKey(master1, binding.source, binding.table);
    const b = { ...binding, rowVersion: (1n << 64n) - 1n };
    const block = sealBlock({ kid: 'k', version: 1, key }, b, row);
    expect(openBlock(block, b, () => key)).toEqual(row);
    expect(codeOf(() => openBlock(block, { ...b, rowVersion: (1n << 64n) - 2n }, () => key))).toBe('DECRYPTION_FAILED');
    expect(codeOf(() => encodeRowBinding({ ...b, rowVersion: 1n << 64n }))).toBe('RangeError');
    expect(codeOf(() => encodeRowBinding({ ...b, rowVersion: -1 }))).toBe('RangeError');
    expect(codeOf(() => encodeRowBinding({ ...b, rowVersion: 1.5 }))).toBe('TypeError');
  });
});

describe('round trips (property)', () => {
  it('decrypt(encrypt(x)) = x for any row and binding; blocks never repeat', async () => {
    const env = new Envelope({ provider: provider(master1), kid: 'prod-1' });
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          source: fc.string({ minLength: 1, maxLength: 20 }),
          table: fc.string({ minLength: 1, maxLength: 20 }),
          primaryKey: fc.uint8Array({ maxLength: 40 }),
          rowVersion: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
        }),
        fc.uint8Array({ maxLength: 600 }),
        async (b, plaintext) => {
          const block = await env.encrypt(b, plaintext);
          expect(block.length).toBe(33 + plaintext.length + BLOCK_TAG_BYTES);
          expect(await env.decrypt(block, b)).toEqual(plaintext);
          expect(await env.encrypt(b, plaintext)).not.toEqual(block);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('rotation and re-encryption', () => {
  it('new blocks use the newest version; old blocks still decrypt; re-encrypt moves a block to the newest', async () => {
    const old = new Envelope({ provider: provider(master1), kid: 'prod-1' });
    const oldBlock = await old.encrypt(binding, row);
    expect(parseBlockHeader(oldBlock).keyVersion).toBe(1);

    const env = new Envelope({ provider: provider(master1, master2), kid: 'prod-1' });
    const fresh = await env.encrypt(binding, row);
    expect(parseBlockHeader(fresh).keyVersion).toBe(2);
    expect(await env.decrypt(oldBlock, binding)).toEqual(row);
    expect(await env.decrypt(fresh, binding)).toEqual(row);
    // Version 2 block under another key does not decrypt with version 1 (the old provider lacks it).
    expect(await asyncCode(old.decrypt(fresh, binding))).toBe('UNKNOWN_KEY');

    const r = await env.reencrypt(oldBlock, binding);
    expect(r.changed).toBe(true);
    expect(parseBlockHeader(r.block).keyVersion).toBe(2);
    expect(await env.decrypt(r.block, binding)).toEqual(row);
    const same = await env.reencrypt(r.block, binding);
    expect(same).toEqual({ block: r.block, changed: false });
    const forced = await env.reencrypt(r.block, binding, { force: true });
    expect(forced.changed).toBe(true);
    expect(forced.block).not.toEqual(r.block);
    // Re-encryption keeps the binding: the new block does not open for another row.
    expect(await asyncCode(env.decrypt(r.block, { ...binding, rowVersion: 43 }))).toBe('DECRYPTION_FAILED');
  });

  it('reencryptMany reports each block; a bad block does not stop the others', async () => {
    const old = new Envelope({ provider: provider(master1), kid: 'prod-1' });
    const env = new Envelope({ provider: provider(master1, master2), kid: 'prod-1' });
    const items = await Promise.all([1, 2, 3].map(async (i) => ({ binding: { ...binding, rowVersion: i }, block: await old.encrypt({ ...binding, rowVersion: i }, bytes(i * 10)) })));
    const tampered = items[1]!.block.slice();
    tampered[tampered.length - 1]! ^= 1;
    const res = await env.reencryptMany([items[0]!, { ...items[1]!, block: tampered }, items[2]!, { binding, block: Uint8Array.of(1, 2) }]);
    expect(res.map((r) => (r.ok ? r.changed : r.error.code))).toEqual([true, 'DECRYPTION_FAILED', true, 'MALFORMED_INPUT']);
    for (const [i, r] of [res[0]!, res[2]!].entries()) {
      if (!r.ok) throw new Error('unreachable');
      expect(parseBlockHeader(r.block).keyVersion).toBe(2);
      expect(await env.decrypt(r.block, items[i * 2]!.binding)).toEqual(bytes((i * 2 + 1) * 10));
    }
  });
});

describe('every tampered, misbound, truncated or oversized block is rejected with a typed error', () => {
  const key = refDataKey(master1, binding.source, binding.table);
  const block = new Uint8Array(refSeal(master1, 'prod-1', 1, fixedNonce(), binding, row));
  const open = (b: Uint8Array, bind: RowBinding = binding, k: Uint8Array = key): Uint8Array => openBlock(b, bind, () => k);

  it('wrong key: another master key, another version, another table’s data key', () => {
    expect(codeOf(() => open(block, binding, refDataKey(master2, binding.source, binding.table)))).toBe('DECRYPTION_FAILED');
    expect(codeOf(() => open(block, binding, refDataKey(master1, binding.source, 'public.orders')))).toBe('DECRYPTION_FAILED');
    expect(codeOf(() => openBlock(block, binding, keyFor(master2)))).toBe('DECRYPTION_FAILED');
  });

  it('wrong AAD: each binding field changed', async () => {
    const env = new Envelope({ provider: provider(master1), kid: 'prod-1' });
    const variants: RowBinding[] = [
      { ...binding, source: 'pg-other' },
      { ...binding, table: 'public.orders' },
      { ...binding, primaryKey: Uint8Array.of(0x01, 0x02, 0x04) },
      { ...binding, primaryKey: Uint8Array.of(0x01, 0x02) },
      { ...binding, rowVersion: 43 },
      { ...binding, rowVersion: 41 },
      { ...binding, rowVersion: 0 },
    ];
    for (const v of variants) {
      // with the data key of the right table (an attacker moving a block keeps the key) ...
      expect(codeOf(() => open(block, v))).toBe('DECRYPTION_FAILED');
      // ... and through the Envelope, which derives the key from the claimed binding.
      expect(await asyncCode(env.decrypt(block, v))).toBe('DECRYPTION_FAILED');
    }
    expect(open(block)).toEqual(row);
  });

  it('a flipped bit anywhere (header, nonce, ciphertext, tag) never decrypts', () => {
    const seen = new Set<string>();
    for (let i = 0; i < block.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const t = block.slice();
        t[i]! ^= 1 << bit;
        const c = codeOf(() => open(t));
        expect(c, `byte ${i} bit ${bit}`).toMatch(/^(MALFORMED_INPUT|UNKNOWN_KEY|DECRYPTION_FAILED)$/);
        seen.add(c);
      }
    }
    // Spot checks by region: nonce (offset 17..28), ciphertext, tag are authentication failures.
    const flip = (i: number, mask = 0x01): string => codeOf(() => {
      const t = block.slice();
      t[i]! ^= mask;
      return open(t);
    });
    expect(flip(17)).toBe('DECRYPTION_FAILED'); // nonce
    expect(flip(33)).toBe('DECRYPTION_FAILED'); // ciphertext
    expect(flip(block.length - 1)).toBe('DECRYPTION_FAILED'); // tag
    expect(flip(16, 0x02)).toBe('DECRYPTION_FAILED'); // key version 1 -> 3 (this resolver ignores it; GCM does not)
    expect(flip(16)).toBe('MALFORMED_INPUT'); // key version 1 -> 0
    expect(flip(0)).toBe('MALFORMED_INPUT'); // magic
    expect(flip(4)).toBe('MALFORMED_INPUT'); // format version
    expect(flip(5)).toBe('MALFORMED_INPUT'); // algorithm
    expect(flip(32)).toBe('MALFORMED_INPUT'); // plaintext length
    expect(flip(7)).toBe('DECRYPTION_FAILED'); // kid 'p' -> 'q'
    expect(seen).toEqual(new Set(['MALFORMED_INPUT', 'DECRYPTION_FAILED']));
  });

  it('a header naming an unknown key id or version is UNKNOWN_KEY', async () => {
    const env = new Envelope({ provider: provider(master1), kid: 'prod-1' });
    const v2 = new Uint8Array(refSeal(master1, 'prod-1', 2, fixedNonce(), binding, row));
    const otherKid = new Uint8Array(refSeal(master1, 'prod-9', 1, fixedNonce(), binding, row));
    expect(await asyncCode(env.decrypt(v2, binding))).toBe('UNKNOWN_KEY');
    expect(await asyncCode(env.decrypt(otherKid, binding))).toBe('UNKNOWN_KEY');
    expect(codeOf(() => openBlock(block, binding, () => undefined))).toBe('UNKNOWN_KEY');
  });

  it('every truncation and any trailing byte is MALFORMED_INPUT', () => {
    for (let n = 0; n < block.length; n++) expect(codeOf(() => open(block.subarray(0, n))), `length ${n}`).toBe('MALFORMED_INPUT');
    const longer = new Uint8Array(block.length + 1);
    longer.set(block);
    expect(codeOf(() => open(longer))).toBe('MALFORMED_INPUT');
  });

  it('oversized blocks are refused before any work; oversized plaintext is a RangeError', () => {
    // A view of a huge length over a small buffer would fail if anything were read or allocated.
    let touched = false;
    const huge = new Proxy(new Uint8Array(0), {
      get(target, p) {
        if (p === 'length') return MAX_BLOCK_BYTES + 1;
        if (typeof p === 'string' && /^\d+$/.test(p)) touched = true;
        return Reflect.get(target, p) as unknown;
      },
    });
    expect(codeOf(() => parseBlockHeader(huge))).toBe('MALFORMED_INPUT');
    expect(touched).toBe(false);
    const hdr = block.slice(0, 33);
    new DataView(hdr.buffer).setUint32(29, MAX_BLOCK_PLAINTEXT_BYTES + 1);
    expect(codeOf(() => parseBlockHeader(new Uint8Array([...hdr, ...bytes(16)])))).toBe('MALFORMED_INPUT');
    expect(codeOf(() => sealBlock({ kid: 'k', version: 1, key }, binding, new Uint8Array(MAX_BLOCK_PLAINTEXT_BYTES + 1)))).toBe('RangeError');
  });

  it('malformed headers: bad kid length, bad kid characters, key version 0', () => {
    const set = (i: number, v: number): Uint8Array => {
      const t = block.slice();
      t[i] = v;
      return t;
    };
    expect(codeOf(() => parseBlockHeader(set(6, 0)))).toBe('MALFORMED_INPUT');
    expect(codeOf(() => parseBlockHeader(set(6, 65)))).toBe('MALFORMED_INPUT');
    expect(codeOf(() => parseBlockHeader(set(7, 0x20)))).toBe('MALFORMED_INPUT');
    const v0 = block.slice();
    v0.fill(0, 13, 17);
    expect(codeOf(() => parseBlockHeader(v0))).toBe('MALFORMED_INPUT');
    expect(codeOf(() => parseBlockHeader('MSEB' as unknown as Uint8Array))).toBe('TypeError');
  });

  it('random garbage never decrypts (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), (garbage) => {
        expect(codeOf(() => open(garbage))).toMatch(/^(MALFORMED_INPUT|DECRYPTION_FAILED|UNKNOWN_KEY)$/);
      }),
      { numRuns: 300 },
    );
  });

  it('bad arguments are TypeError/RangeError naming the argument', () => {
    expect(() => sealBlock({ kid: 'k', version: 1, key: bytes(16) }, binding, row)).toThrow(/dataKey.key/);
    expect(() => sealBlock({ kid: 'bad kid', version: 1, key }, binding, row)).toThrow(/kid/);
    expect(() => sealBlock({ kid: 'k', version: 0, key }, binding, row)).toThrow(/keyVersion/);
    expect(() => sealBlock({ kid: 'k', version: 1, key }, { ...binding, source: '' }, row)).toThrow(/binding.source/);
    expect(() => sealBlock({ kid: 'k', version: 1, key }, { ...binding, primaryKey: 'x' as unknown as Uint8Array }, row)).toThrow(/binding.primaryKey/);
    expect(() => sealBlock({ kid: 'k', version: 1, key }, binding, row, { random: () => bytes(8) })).toThrow(/random/);
  });
});

// The worked example of README.md part B §4 (header || ciphertext || tag).
const DOC_BLOCK =
  '4d53454201010670726f642d3100000001c0c1c2c3c4c5c6c7c8c9cacb00000015' + '7a37d7798bafa33c95a3f64aeb6ea7fae8bab18681' + 'efa27bd7d94f9fa83e52d9d1c011d186';
