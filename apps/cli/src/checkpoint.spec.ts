import { spawnSync } from 'node:child_process';
import { createHash, createPublicKey, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// `merklesync checkpoint …` run as a user runs it: the real bin in a child process, files on disk.
const BIN = new URL('../bin/merklesync.mjs', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'merklesync-cp-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function ms(args: string[], input?: string): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', ...(input !== undefined ? { input } : {}) });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}
const HEX_A = 'ab'.repeat(32);
/** name, key ID, key bytes of a verifier key (the base64 may itself contain '+'). */
function vkeyParts(vkey: string): [string, string, Buffer] {
  const m = /^([^+]+)\+([0-9a-f]{8})\+(.+)$/.exec(vkey)!;
  return [m[1]!, m[2]!, Buffer.from(m[3]!, 'base64')];
}
const HEX_C = 'cd'.repeat(32);

function keygen(name: string, witness: boolean): { keyFile: string; vkey: string } {
  const r = ms(['checkpoint', 'keygen', '--name', name, ...(witness ? ['--witness'] : [])]);
  expect(r.code).toBe(0);
  const [skey, vkey] = r.out.trim().split('\n') as [string, string];
  expect(skey).toMatch(new RegExp(`^PRIVATE\\+KEY\\+${name.replace(/\./g, '\\.')}\\+[0-9a-f]{8}\\+`));
  return { keyFile: file(`${name.replace(/\W/g, '_')}.key`, r.out), vkey };
}

const log = keygen('log.example/orders', false);
const ws = ['w1.example', 'w2.example', 'w3.example'].map((n) => keygen(n, true));
const policyFile = file('policy.json', JSON.stringify({ version: 1, origin: 'log.example/orders', log: log.vkey, witnesses: ws.map((w) => w.vkey) }));

function run(args: string[], input?: string): string {
  const r = ms(args, input);
  expect(r.code, r.err).toBe(0);
  return r.out;
}
// One signed checkpoint, then cosigned by w1, w1+w2, w1+w2+w3 (each step one cosign run on stdin).
const NOTE = run(['checkpoint', 'sign', '--key', log.keyFile, '--size', '5', '--root', HEX_A, '--state-root', HEX_C, '--seq', '7']);
const COSIGNED: string[] = [NOTE];
for (const w of ws) COSIGNED.push(run(['checkpoint', 'cosign', '--key', w.keyFile, '--time', '1700000000', '-'], COSIGNED[COSIGNED.length - 1]));

describe('merklesync checkpoint', () => {
  it('keygen prints a signer and a verifier key whose key ID is SHA-256(name || \\n || type || key)[:4]', () => {
    const [name, id, raw] = vkeyParts(log.vkey);
    expect(raw[0]).toBe(1);
    expect(createHash('sha256').update(`${name}\n`).update(raw).digest().subarray(0, 4).toString('hex')).toBe(id);
    expect(vkeyParts(ws[0]!.vkey)[2][0]).toBe(4);
  });

  it('keygen --out writes PREFIX.key (mode 600) and PREFIX.vkey and refuses to overwrite', () => {
    const prefix = join(dir, 'gen');
    const r = ms(['checkpoint', 'keygen', '--name', 'x.example', '--out', prefix]);
    expect(r.code).toBe(0);
    expect(readFileSync(`${prefix}.vkey`, 'utf8')).toBe(r.out);
    expect(statSync(`${prefix}.key`).mode & 0o777).toBe(0o600);
    expect(ms(['checkpoint', 'keygen', '--name', 'x.example', '--out', prefix]).code).toBe(2);
  });

  it('sign prints a C2SP checkpoint note that an independent Ed25519 check accepts', () => {
    const [body, sigLine] = NOTE.split('\n\n') as [string, string];
    expect(body + '\n').toBe(
      `log.example/orders\n5\n${Buffer.from(HEX_A, 'hex').toString('base64')}\nmerklesync-state ${Buffer.from(HEX_C, 'hex').toString('base64')}\nmerklesync-seq 7\n`,
    );
    const m = /^— log\.example\/orders (\S+)\n$/.exec(sigLine)!;
    const sig = Buffer.from(m[1]!, 'base64');
    const [, id, raw] = vkeyParts(log.vkey);
    const pub = raw.subarray(1);
    expect(sig.subarray(0, 4).toString('hex')).toBe(id);
    const spki = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), pub]), format: 'der', type: 'spki' });
    expect(verify(null, Buffer.from(body + '\n'), spki, sig.subarray(4))).toBe(true);
  });

  it('sign --log-file computes size and the RFC 9162 root of the leaves', () => {
    const leaves = file('leaves.txt', '00\n01\n');
    const r = ms(['checkpoint', 'sign', '--key', log.keyFile, '--log-file', leaves]);
    expect(r.code, r.err).toBe(0);
    const h = (...b: Buffer[]) => createHash('sha256').update(Buffer.concat(b)).digest();
    const root = h(Buffer.from([1]), h(Buffer.from([0, 0])), h(Buffer.from([0, 1])));
    expect(r.out.split('\n').slice(0, 3)).toEqual(['log.example/orders', '2', root.toString('base64')]);
  });

  it('verify: all 3 witnesses → 0; 2 of 3 (exactly 2/3) → 1; the log only → 1', () => {
    const ok = ms(['checkpoint', 'verify', '--policy', policyFile, file('cp3.txt', COSIGNED[3]!)]);
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toMatch(/verified: log\.example\/orders size 5 seq 7; cosigned weight 3 of 3/);
    const two = ms(['checkpoint', 'verify', '--policy', policyFile, file('cp2.txt', COSIGNED[2]!)]);
    expect(two.code).toBe(1);
    expect(two.err).toMatch(/below the threshold 3/);
    expect(ms(['checkpoint', 'verify', '--policy', policyFile, '-'], NOTE).code).toBe(1);
    expect(COSIGNED[3]!.split('\n').filter((l) => l.startsWith('— '))).toHaveLength(4);
  });

  it('verify: tampered → 1, malformed checkpoint or policy → 2 with a one-line reason', () => {
    const full = COSIGNED[3]!;
    expect(ms(['checkpoint', 'verify', '--policy', policyFile, '-'], full.replace('\n5\n', '\n6\n')).code).toBe(1);
    for (const [args, input] of [
      [['checkpoint', 'verify', '--policy', policyFile, '-'], full.slice(0, 40)],
      [['checkpoint', 'verify', '--policy', policyFile, '-'], full.replace('merklesync-seq 7', 'merklesync-seq 07')],
      [['checkpoint', 'verify', '--policy', file('bad-policy.json', '{"version":1}'), '-'], full],
      [['checkpoint', 'cosign', '--key', log.keyFile, '-'], full],
      [['checkpoint', 'cosign', '--key', ws[0]!.keyFile, '-'], 'not a note'],
      [['checkpoint', 'sign', '--key', log.keyFile, '--size', '5', '--root', 'abcd'], ''],
      [['checkpoint', 'sign', '--key', log.keyFile, '--size', '5', '--root', HEX_A, '--seq', '1'], ''],
      [['checkpoint', 'sign', '--key', ws[0]!.keyFile, '--size', '5', '--root', HEX_A], ''],
      [['checkpoint', 'sign', '--key', file('garbage.key', 'PRIVATE+KEY+x+00000000+AAAA\n'), '--size', '5', '--root', HEX_A], ''],
    ] as [string[], string][]) {
      const r = ms(args, input);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err.trim().split('\n'), args.join(' ')).toHaveLength(1);
    }
  });

  it('--help works on every checkpoint command', () => {
    for (const c of ['keygen', 'sign', 'cosign', 'verify']) {
      const r = ms(['checkpoint', c, '--help']);
      expect(r.code, c).toBe(0);
      expect(r.out).toMatch(new RegExp(`merklesync checkpoint ${c}`));
    }
  });
});
