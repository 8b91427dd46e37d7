import { spawn, spawnSync } from 'node:child_process';
import { createCipheriv, hkdfSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// The keys and block commands, run as a user runs them: the real bin in a child process, files on disk.
const BIN = new URL('../bin/merklesync.mjs', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'merklesync-keys-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function ms(args: string[], input?: string | Buffer): { code: number; out: Buffer; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], input === undefined ? {} : { input });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr.toString('utf8') };
}
// Async twin of ms: independent runs go in parallel to keep the suite short.
function msa(args: string[]): Promise<{ code: number; out: Buffer; err: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    c.stdout.on('data', (d: Buffer) => out.push(d));
    c.stderr.on('data', (d: Buffer) => err.push(d));
    c.on('error', reject);
    c.on('close', (code) => resolve({ code: code ?? -1, out: Buffer.concat(out), err: Buffer.concat(err).toString('utf8') }));
  });
}
const p = (name: string): string => join(dir, name);
const bind = (pk = '010203', rv = '42', table = 'public.users', source = 'pg-main'): string[] => ['--source', source, '--table', table, '--pk', pk, '--row-version', rv];

describe('merklesync keys', () => {
  it('keys new writes a 0600 key file and prints no key; refuses to overwrite; --print prints the file', () => {
    const r = ms(['keys', 'new', '--out', p('k1.json'), '--kid', 'prod-1']);
    expect(r.code).toBe(0);
    expect(r.out.toString()).toBe(`wrote ${p('k1.json')}: kid prod-1, version 1\n`);
    expect(statSync(p('k1.json')).mode & 0o777).toBe(0o600);
    const doc = JSON.parse(readFileSync(p('k1.json'), 'utf8'));
    expect(doc).toMatchObject({ v: 1, kid: 'prod-1', keys: [{ version: 1 }] });
    expect(Buffer.from(doc.keys[0].key, 'base64')).toHaveLength(32);
    expect(r.out.toString()).not.toContain(doc.keys[0].key);

    const again = ms(['keys', 'new', '--out', p('k1.json')]);
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/already exists/);
    expect(JSON.parse(readFileSync(p('k1.json'), 'utf8'))).toEqual(doc);

    const printed = ms(['keys', 'new', '--print']);
    expect(printed.code).toBe(0);
    expect(JSON.parse(printed.out.toString()).kid).toMatch(/^key-[0-9a-f]{8}$/);
    expect(ms(['keys', 'new']).code).toBe(2);
    expect(ms(['keys', 'new', '--print', '--kid', 'bad kid']).code).toBe(2);
  });

  it('keys rotate adds a version and keeps the old ones and the 0600 mode', () => {
    ms(['keys', 'new', '--out', p('rot.json'), '--kid', 'r']);
    const before = JSON.parse(readFileSync(p('rot.json'), 'utf8'));
    const r = ms(['keys', 'rotate', p('rot.json')]);
    expect(r.code).toBe(0);
    expect(r.out.toString()).toMatch(/version 2 is now current/);
    const after = JSON.parse(readFileSync(p('rot.json'), 'utf8'));
    expect(after.keys.map((k: { version: number }) => k.version)).toEqual([1, 2]);
    expect(after.keys[0]).toEqual(before.keys[0]);
    expect(statSync(p('rot.json')).mode & 0o777).toBe(0o600);
    writeFileSync(p('junk.json'), '{"v":1}');
    const bad = ms(['keys', 'rotate', p('junk.json')]);
    expect(bad.code).toBe(2);
    expect(bad.err.trim().split('\n')).toHaveLength(1);
    expect(ms(['keys', 'rotate', p('missing.json')]).code).toBe(2);
  });
});

describe('merklesync block', () => {
  // A fixed key file, so the block can be checked against an independent implementation.
  const master = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
  writeFileSync(p('fixed.json'), JSON.stringify({ v: 1, kid: 'prod-1', keys: [{ version: 1, key: master.toString('base64'), created: '2025-01-01T00:00:00Z' }] }));
  const row = Buffer.from('{"id":1,"name":"Ada"}');
  writeFileSync(p('row.bin'), row);

  it('encrypt prints base64 of a block that node:crypto decrypts per the documented format; decrypt returns the row', () => {
    const r = ms(['block', 'encrypt', '--key', p('fixed.json'), ...bind(), p('row.bin')]);
    expect(r.code).toBe(0);
    const block = Buffer.from(r.out.toString().trim(), 'base64');
    expect(block.subarray(0, 4).toString()).toBe('MSEB');
    // Independent decryption: HKDF table secret → data key, AAD = header || binding.
    const f = (s: string): Buffer => Buffer.concat([Buffer.from([0, s.length]), Buffer.from(s)]);
    const ts = Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), Buffer.concat([Buffer.from('merklesync/v1/table-secret\0'), f('pg-main'), f('public.users')]), 32));
    const dk = Buffer.from(hkdfSync('sha256', ts, Buffer.alloc(0), Buffer.from('merklesync/v1/data-key'), 32));
    const header = block.subarray(0, 33);
    const rv = Buffer.alloc(8);
    rv.writeBigUInt64BE(42n);
    const d = createCipheriv('aes-256-gcm', dk, header.subarray(17, 29)).setAAD(Buffer.concat([header, f('pg-main'), f('public.users'), Buffer.from([0, 0, 0, 3, 1, 2, 3]), rv]));
    expect(d.update(block.subarray(33, block.length - 16))).toEqual(row);

    const back = ms(['block', 'decrypt', '--key', p('fixed.json'), ...bind(), '-'], r.out);
    expect(back.code).toBe(0);
    expect(back.out).toEqual(row);
  });

  it('--out writes a binary block that decrypt reads back (also to --out), via stdin too', () => {
    expect(ms(['block', 'encrypt', '--key', p('fixed.json'), ...bind('0a'), '--out', p('b.bin'), '-'], row).code).toBe(0);
    expect(readFileSync(p('b.bin')).subarray(0, 4).toString()).toBe('MSEB');
    expect(ms(['block', 'decrypt', '--key', p('fixed.json'), ...bind('0a'), '--out', p('plain.bin'), p('b.bin')]).code).toBe(0);
    expect(readFileSync(p('plain.bin'))).toEqual(row);
  });

  it('wrong binding or wrong key exits 1; tampered exits 1; malformed input and bad usage exit 2 — one line each', async () => {
    const enc = ms(['block', 'encrypt', '--key', p('fixed.json'), ...bind(), p('row.bin')]);
    writeFileSync(p('good.b64'), enc.out);
    const block = Buffer.from(enc.out.toString().trim(), 'base64');
    block[block.length - 1]! ^= 1;
    writeFileSync(p('tampered.bin'), block);
    writeFileSync(p('trunc.bin'), block.subarray(0, 20));
    writeFileSync(p('garbage.txt'), 'not a block');
    writeFileSync(p('junk-key.json'), '{"v":1}');
    ms(['keys', 'new', '--out', p('other.json'), '--kid', 'prod-1']);
    ms(['keys', 'new', '--out', p('other-kid.json'), '--kid', 'other']);
    const k = ['--key', p('fixed.json')];
    const cases: [string, string[], string, number, RegExp?][] = [
      ['other pk', [...k, ...bind('010204')], 'good.b64', 1, /authentication failed/],
      ['other row version', [...k, ...bind('010203', '43')], 'good.b64', 1, /authentication failed/],
      ['other table', [...k, ...bind('010203', '42', 'public.orders')], 'good.b64', 1, /authentication failed/],
      ['other source', [...k, ...bind('010203', '42', 'public.users', 'pg-other')], 'good.b64', 1, /authentication failed/],
      ['other key, same kid', ['--key', p('other.json'), ...bind()], 'good.b64', 1, /authentication failed/],
      ['key file without the kid', ['--key', p('other-kid.json'), ...bind()], 'good.b64', 1, /prod-1/],
      ['flipped tag bit', [...k, ...bind()], 'tampered.bin', 1, /authentication failed/],
      ['truncated', [...k, ...bind()], 'trunc.bin', 2, /truncated/],
      ['not a block', [...k, ...bind()], 'garbage.txt', 2],
      ['bad --pk', [...k, ...bind('zz')], 'good.b64', 2, /--pk/],
      ['negative row version', [...k, ...bind('01', '-1')], 'good.b64', 2],
      ['row version 2^64', [...k, ...bind('01', '18446744073709551616')], 'good.b64', 2, /--row-version/],
      ['missing options', [...k, '--source', 'pg-main'], 'good.b64', 2, /required/],
      ['missing key file', ['--key', p('missing.json'), ...bind()], 'good.b64', 2],
      ['malformed key file', ['--key', p('junk-key.json'), ...bind()], 'good.b64', 2],
    ];
    // Two at a time: the machine has two cores; more only thrashes.
    const results: Awaited<ReturnType<typeof msa>>[] = [];
    for (let i = 0; i < cases.length; i += 2) {
      const batch = cases.slice(i, i + 2).map(([, args, file]) => msa(['block', 'decrypt', ...args, p(file)]));
      results.push(...(await Promise.all(batch)));
    }
    results.forEach((r, i) => {
      const [name, , , code, msg] = cases[i]!;
      expect(r.code, name).toBe(code);
      expect(r.out, name).toHaveLength(0);
      expect(r.err.trim().split('\n'), name).toHaveLength(1);
      if (msg) expect(r.err, name).toMatch(msg);
    });
  });

  it('--help documents the exit codes', () => {
    const h = ms(['block', 'decrypt', '--help']);
    expect(h.code).toBe(0);
    expect(h.out.toString()).toMatch(/Exit codes: 0 ok, 1 the block does not authenticate/);
    expect(ms(['keys', 'new', '--help']).out.toString()).toMatch(/0600/);
  });
});
