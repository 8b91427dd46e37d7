import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// The CLI is exercised as a user runs it: the real bin in a child process, files on disk.
const BIN = new URL('../bin/merklesync.mjs', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'merklesync-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function ms(...args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}
const sha = (...parts: Buffer[]): Buffer => createHash('sha256').update(Buffer.concat(parts)).digest();

// Independent RFC 9162 reference: recursive MTH with node:crypto.
function mth(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return sha();
  if (leaves.length === 1) return sha(Buffer.from([0]), leaves[0]!);
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return sha(Buffer.from([1]), mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

const leaves = Array.from({ length: 37 }, (_, i) => Buffer.from(`leaf-${i}`));
const leafFile = file('leaves.txt', leaves.map((l) => l.toString('hex')).join('\n') + '\n');

describe('merklesync log', () => {
  it('log root prints the RFC 9162 root of the file', () => {
    const r = ms('log', 'root', leafFile);
    expect(r.code).toBe(0);
    expect(r.out.trim()).toBe(mth(leaves).toString('hex'));
  });

  it('an empty line is an empty leaf; CRLF is accepted; the empty file is the empty tree', () => {
    expect(ms('log', 'root', file('crlf.txt', '00\r\n\r\n10\r\n')).out.trim()).toBe(mth([Buffer.from('00', 'hex'), Buffer.alloc(0), Buffer.from('10', 'hex')]).toString('hex'));
    expect(ms('log', 'root', file('empty.txt', '')).out.trim()).toBe(sha().toString('hex'));
  });

  it('--hash blake3 gives another root, and an unknown suite is a usage error', () => {
    const b = ms('log', 'root', leafFile, '--hash', 'blake3');
    expect(b.code).toBe(0);
    expect(b.out.trim()).toMatch(/^[0-9a-f]{64}$/);
    expect(b.out.trim()).not.toBe(mth(leaves).toString('hex'));
    const bad = ms('log', 'root', leafFile, '--hash', 'md5');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--hash must be sha256 or blake3/);
  });

  it('log prove → verify exits 0; tampered → 1; malformed → 2', () => {
    const r = ms('log', 'prove', leafFile, '5', '--size', '20');
    expect(r.code).toBe(0);
    const proof = JSON.parse(r.out);
    expect(proof).toMatchObject({ v: 1, kind: 'log-inclusion', hash: 'sha256', treeSize: 20, leafIndex: 5, root: mth(leaves.slice(0, 20)).toString('hex') });
    expect(ms('verify', file('p.json', r.out)).code).toBe(0);
    const flipped = { ...proof, path: [...proof.path] };
    flipped.path[0] = (flipped.path[0][0] === '0' ? '1' : '0') + flipped.path[0].slice(1);
    expect(ms('verify', file('p1.json', JSON.stringify(flipped))).code).toBe(1);
    expect(ms('verify', file('p2.json', JSON.stringify({ ...proof, leafIndex: 6 }))).code).toBe(1);
    const truncated = ms('verify', file('p3.json', r.out.slice(0, 50)));
    expect(truncated.code).toBe(2);
    expect(truncated.err.trim().split('\n')).toHaveLength(1);
    expect(ms('verify', file('p4.json', JSON.stringify({ ...proof, path: ['zz'] }))).code).toBe(2);
    expect(ms('verify', join(dir, 'missing.json')).code).toBe(2);
  });

  it('log consistency → verify exits 0, and a proof against another root exits 1', () => {
    const r = ms('log', 'consistency', leafFile, '7', '37', '--hash', 'blake3');
    expect(r.code).toBe(0);
    const proof = JSON.parse(r.out);
    expect(proof).toMatchObject({ kind: 'log-consistency', hash: 'blake3', size1: 7, size2: 37 });
    expect(ms('verify', file('c.json', r.out)).code).toBe(0);
    expect(ms('verify', file('c1.json', JSON.stringify({ ...proof, root1: proof.root2 }))).code).toBe(1);
    expect(ms('verify', file('c2.json', JSON.stringify({ ...proof, hash: 'sha256' }))).code).toBe(1);
    // --hash on verify pins the suite: the proof is blake3, so requiring sha256 fails and blake3 passes.
    expect(ms('verify', join(dir, 'c.json'), '--hash', 'sha256').code).toBe(1);
    expect(ms('verify', join(dir, 'c.json'), '--hash', 'blake3').code).toBe(0);
    expect(ms('verify', join(dir, 'c.json'), '--hash', 'sha1').code).toBe(2);
  });

  it('bad arguments are one-line errors with exit 2', () => {
    for (const args of [
      ['log', 'prove', leafFile, '37'],
      ['log', 'prove', leafFile, '3', '--size', '99'],
      ['log', 'prove', leafFile, '-1'],
      ['log', 'consistency', leafFile, '0', '3'],
      ['log', 'consistency', leafFile, '9', '3'],
      ['log', 'root'],
      ['log', 'root', leafFile, '--bogus'],
      ['log', 'root', file('bad.txt', '00\nxyz\n')],
      ['log', 'root', join(dir, 'nope.txt')],
      ['nonsense'],
    ]) {
      const r = ms(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err.trim().split('\n'), args.join(' ')).toHaveLength(1);
    }
  });

  it('--help works on every command and exits 0', () => {
    for (const args of [['--help'], ['log', '--help'], ['log', 'root', '--help'], ['log', 'prove', '--help'], ['log', 'consistency', '--help'], ['map', 'root', '--help'], ['map', 'prove', '--help'], ['verify', '--help']]) {
      const r = ms(...args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.out, args.join(' ')).toMatch(/merklesync/);
    }
    for (const cmd of [['log', 'root'], ['log', 'prove'], ['log', 'consistency'], ['map', 'root'], ['map', 'prove'], ['verify']]) {
      expect(ms(...cmd, '--help').out, cmd.join(' ')).toMatch(/--hash sha256\|blake3/);
    }
  });

  it('reads standard input for "-"', () => {
    const r = spawnSync(process.execPath, [BIN, 'log', 'root', '-'], { input: readFileSync(leafFile), encoding: 'utf8' });
    expect(r.stdout.trim()).toBe(mth(leaves).toString('hex'));
  });
});

// Independent reference for the map root (libs/merkle/README.md): crit-bit trie, leaf H(0x10||key||value),
// branch H(0x11||bit||left||right) at the first differing bit, empty map H(0x12).
function bit(key: Buffer, i: number): number {
  return (key[i >> 3]! >> (7 - (i & 7))) & 1;
}
function mapRoot(entries: { key: Buffer; value: Buffer }[], from = 0): Buffer {
  if (entries.length === 0) return sha(Buffer.from([0x12]));
  if (entries.length === 1) return sha(Buffer.from([0x10]), entries[0]!.key, entries[0]!.value);
  for (let b = from; b < 256; b++) {
    const left = entries.filter((e) => bit(e.key, b) === 0);
    const right = entries.filter((e) => bit(e.key, b) === 1);
    if (left.length && right.length) return sha(Buffer.from([0x11, b]), mapRoot(left, b + 1), mapRoot(right, b + 1));
  }
  throw new Error('duplicate keys');
}

describe('merklesync map', () => {
  const entries = Array.from({ length: 50 }, (_, i) => ({ key: sha(Buffer.from(`k${i}`)), value: Buffer.from(`value-${i}`) }));
  const mapFile = file('map.txt', entries.map((e) => `${e.key.toString('hex')} ${e.value.toString('hex')}`).join('\n') + '\n');

  it('map root equals the independent reference, whatever the line order', () => {
    const want = mapRoot(entries).toString('hex');
    expect(ms('map', 'root', mapFile).out.trim()).toBe(want);
    const reversed = file('map-rev.txt', [...entries].reverse().map((e) => `${e.key.toString('hex')}  ${e.value.toString('hex')}`).join('\n') + '\n\n');
    expect(ms('map', 'root', reversed).out.trim()).toBe(want);
    expect(ms('map', 'root', file('map-empty.txt', '')).out.trim()).toBe(sha(Buffer.from([0x12])).toString('hex'));
  });

  it('membership and non-membership proofs verify; tampered ones do not', () => {
    const present = ms('map', 'prove', mapFile, entries[7]!.key.toString('hex'));
    expect(present.code).toBe(0);
    const pj = JSON.parse(present.out);
    expect(pj).toMatchObject({ v: 1, kind: 'map-membership', hash: 'sha256', root: mapRoot(entries).toString('hex'), value: entries[7]!.value.toString('hex') });
    expect(ms('verify', file('m.json', present.out)).code).toBe(0);
    expect(ms('verify', file('m1.json', JSON.stringify({ ...pj, value: '00' }))).code).toBe(1);

    const absentKey = sha(Buffer.from('absent')).toString('hex');
    const absent = ms('map', 'prove', mapFile, absentKey, '--hash', 'blake3');
    expect(absent.code).toBe(0);
    const aj = JSON.parse(absent.out);
    expect(aj).toMatchObject({ kind: 'map-non-membership', hash: 'blake3', key: absentKey });
    expect(ms('verify', file('a.json', absent.out)).code).toBe(0);
    // The same non-membership proof claimed for a key that is present must fail.
    const forged = ms('verify', file('a1.json', JSON.stringify({ ...aj, key: entries[7]!.key.toString('hex') })));
    expect(forged.code).toBe(1);
  });

  it('bad map input is a one-line error with exit 2', () => {
    const k = entries[0]!.key.toString('hex');
    for (const [name, text] of [
      ['dup.txt', `${k} 01\n${k} 02\n`],
      ['short.txt', `abcd 01\n`],
      ['three.txt', `${k} 01 02\n`],
      ['nothex.txt', `${k} zz\n`],
    ] as const) {
      const r = ms('map', 'root', file(name, text));
      expect(r.code, name).toBe(2);
      expect(r.err.trim().split('\n'), name).toHaveLength(1);
    }
    expect(ms('map', 'prove', mapFile, 'abcd').code).toBe(2);
  });
});

