import { hkdfSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { getPortableCryptoBackend } from '../backend/index.ts';
import { KEY_DERIVATION_LABELS, KeyDeriver, LocalKeyProvider, Keyring, deriveDataKey, deriveSubkey, deriveTableSecret, tableSecretInfo, type KeyProvider } from './index.ts';

const master = Uint8Array.from({ length: 32 }, (_, i) => i);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

// Independent reference of the documented derivations (README.md part B §2), with node:crypto.
function frame16(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
}
function refTableSecret(key: Uint8Array, source: string, table: string): Buffer {
  const info = Buffer.concat([Buffer.from('merklesync/v1/table-secret'), Buffer.from([0]), frame16(source), frame16(table)]);
  return Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), info, 32));
}
const refSub = (ts: Uint8Array, label: string): Buffer => Buffer.from(hkdfSync('sha256', ts, Buffer.alloc(0), Buffer.from(label), 32));

describe('per-table key derivation (HKDF-SHA256)', () => {
  it('matches the documented inputs, computed independently with node:crypto', () => {
    const ts = deriveTableSecret(master, 'pg-main', 'public.users');
    expect(hex(ts)).toBe(hex(refTableSecret(master, 'pg-main', 'public.users')));
    expect(hex(deriveDataKey(ts))).toBe(hex(refSub(ts, 'merklesync/v1/data-key')));
    for (const label of Object.values(KEY_DERIVATION_LABELS).filter((l) => l !== KEY_DERIVATION_LABELS.table)) {
      expect(hex(deriveSubkey(ts, label))).toBe(hex(refSub(ts, label)));
    }
    expect(hex(tableSecretInfo('a', 'bc'))).toBe(Buffer.from('merklesync/v1/table-secret').toString('hex') + '00' + '000161' + '00026263');
  });

  it('pins the worked example of README.md part B', () => {
    const ts = deriveTableSecret(master, 'pg-main', 'public.users');
    expect(hex(ts)).toBe(DOC_TABLE_SECRET);
    expect(hex(deriveDataKey(ts))).toBe(DOC_DATA_KEY);
    expect(hex(tableSecretInfo('pg-main', 'public.users'))).toBe('6d65726b6c6573796e632f76312f7461626c652d73656372657400000770672d6d61696e000c7075626c69632e7573657273');
  });

  it('the portable backend derives the same keys', () => {
    const p = getPortableCryptoBackend();
    const ts = deriveTableSecret(master, 'src', 'tbl', p);
    expect(ts).toEqual(deriveTableSecret(master, 'src', 'tbl'));
    expect(deriveDataKey(ts, p)).toEqual(deriveDataKey(ts));
  });

  it('framing is unambiguous: moving bytes between source and table gives another key', () => {
    expect(deriveTableSecret(master, 'ab', 'c')).not.toEqual(deriveTableSecret(master, 'a', 'bc'));
    expect(deriveTableSecret(master, 's', 't')).not.toEqual(deriveTableSecret(master, 't', 's'));
  });

  it('every purpose has its own key', () => {
    const ts = deriveTableSecret(master, 's', 't');
    const keys = Object.values(KEY_DERIVATION_LABELS)
      .filter((l) => l !== KEY_DERIVATION_LABELS.table)
      .map((l) => hex(deriveSubkey(ts, l)));
    expect(new Set([...keys, hex(ts), hex(master)]).size).toBe(keys.length + 2);
  });

  it('checks its arguments', () => {
    expect(() => deriveTableSecret(master.subarray(1), 's', 't')).toThrow(RangeError);
    expect(() => deriveTableSecret(master, '', 't')).toThrow(/source must not be empty/);
    expect(() => deriveTableSecret(master, 's', 'x'.repeat(65536))).toThrow(RangeError);
    expect(() => deriveTableSecret(master, 's', '\udc00')).toThrow(/lone surrogate/);
    expect(() => deriveSubkey(master, KEY_DERIVATION_LABELS.table)).toThrow(RangeError);
    expect(() => deriveSubkey(master, 'other')).toThrow(RangeError);
  });
});

describe('KeyDeriver', () => {
  it('caches derived keys per (kid, version, source, table) and asks an async provider once', async () => {
    const ring = Keyring.generate('k', { random: () => master });
    const local = new LocalKeyProvider([ring]);
    let calls = 0;
    const provider: KeyProvider = {
      getKey: async (kid, v) => {
        calls++;
        await Promise.resolve();
        return local.getKey(kid, v);
      },
      currentVersion: (kid) => Promise.resolve(local.currentVersion(kid)),
    };
    const d = new KeyDeriver(provider, { maxEntries: 2 });
    const ref = { kid: 'k', version: 1, source: 'pg-main', table: 'public.users' };
    const k1 = await d.dataKey(ref);
    expect(hex(k1)).toBe(DOC_DATA_KEY);
    expect(await d.dataKey(ref)).toEqual(k1);
    expect(hex(await d.tableSecret(ref))).toBe(DOC_TABLE_SECRET);
    expect(calls).toBe(1);
    // Concurrent first uses of a new ref share one provider call.
    await Promise.all([d.dataKey({ ...ref, table: 'z' }), d.dataKey({ ...ref, table: 'z' })]);
    expect(calls).toBe(2);
    await d.dataKey({ ...ref, table: 'b' });
    await d.dataKey({ ...ref, table: 'c' }); // evicts the least recently used entry
    await d.dataKey(ref);
    expect(calls).toBe(5);
    k1[0]! ^= 1; // callers get copies
    expect(hex(await d.dataKey(ref))).toBe(DOC_DATA_KEY);
    await expect(d.dataKey({ ...ref, version: 2 })).rejects.toMatchObject({ code: 'UNKNOWN_KEY' });
    await expect(d.dataKey({ ...ref, version: 2 })).rejects.toMatchObject({ code: 'UNKNOWN_KEY' }); // failures are not cached
    expect(calls).toBe(7);
    await expect(d.dataKey({ ...ref, version: 0 })).rejects.toThrow(RangeError);
  });
});

// Worked example values (master key 00 01 .. 1f, source "pg-main", table "public.users").
// Computed by the reference above; the same values are printed in README.md part B.
const DOC_TABLE_SECRET = 'a74f564e035fd8b5abc11123c25e5ada0ea7cfcd04865ddab2626d3df8d64ac6';
const DOC_DATA_KEY = 'd7690d46415ba11dc3f3da99844139b123e2efd62945353a92b16a4cba8c185d';
