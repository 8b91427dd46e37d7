// The response router in isolation: which backend message ends which unit, what reaches the client, and the
// skip-to-Sync rule after an extended-protocol error.
import { describe, expect, it } from 'vitest';
import { BackendType, MessageWriter, type Frame } from '@merklesync/pgwire';
import { BackendChannel, newUnit } from './backend-channel.ts';

const frame = (type: number, w: MessageWriter = new MessageWriter()): Frame => {
  const raw = w.finish(type);
  return { type, raw, body: raw.subarray(5) };
};
const Z = (s: 'I' | 'T' | 'E'): Frame => frame(BackendType.ReadyForQuery, new MessageWriter().byte(s.charCodeAt(0)));
const C = (tag: string): Frame => frame(BackendType.CommandComplete, new MessageWriter().cstring(tag));
const E = (code: string): Frame => frame(BackendType.ErrorResponse, new MessageWriter().byte(0x43).cstring(code).byte(0));
const D = (v: string): Frame => frame(BackendType.DataRow, new MessageWriter().int16(1).int32(Buffer.byteLength(v)).bytes(Buffer.from(v)));
const simple = (t: number): Frame => frame(t);

function setup() {
  const sent: number[] = [];
  const ch = new BackendChannel((b) => sent.push(b[0]!));
  return { ch, sent };
}

describe('BackendChannel', () => {
  it('forwards client units, consumes proxy units (rows collected), and tracks the transaction status', () => {
    const { ch, sent } = setup();
    const q = newUnit('query', 'client');
    const cap = newUnit('capture', 'proxy');
    ch.push(q);
    ch.push(cap);
    for (const f of [D('1'), C('SELECT 1'), Z('T'), simple(BackendType.ParseComplete), simple(BackendType.BindComplete), D('x'), C('SELECT 1'), simple(BackendType.CloseComplete), simple(BackendType.CloseComplete), Z('T')]) ch.route(f);
    expect(sent.map((t) => String.fromCharCode(t)).join('')).toBe('DCZ');
    expect(cap.rows).toEqual([['x']]);
    expect(ch.units).toHaveLength(0);
    expect(ch.txStatus).toBe('T');
  });

  it('holds a ReadyForQuery when asked and ends a Flush-mode capture at its second CloseComplete', () => {
    const { ch, sent } = setup();
    const cap = newUnit('capture', 'proxy', { flushMode: true });
    const ex = newUnit('execute', 'client');
    const sync = newUnit('sync', 'client', { hold: true });
    ch.push(cap);
    ch.push(ex);
    ch.push(sync);
    for (const f of [simple(BackendType.ParseComplete), simple(BackendType.BindComplete), C('SELECT 0'), simple(BackendType.CloseComplete), simple(BackendType.CloseComplete)]) ch.route(f);
    expect(ch.units).toEqual([ex, sync]);
    ch.route(C('UPDATE 1'));
    ch.route(Z('I'));
    expect(sent.map((t) => String.fromCharCode(t)).join('')).toBe('C');
    expect(sync.heldReady?.[0]).toBe(BackendType.ReadyForQuery);
  });

  it('after an extended-protocol error, completes the units the backend skips up to the Sync', () => {
    const { ch, sent } = setup();
    const units = [newUnit('parse', 'client'), newUnit('bind', 'client'), newUnit('execute', 'client'), newUnit('sync', 'client')];
    for (const u of units) ch.push(u);
    ch.route(E('42601'));
    expect(units[0]!.error?.get('C')).toBe('42601');
    expect(units[1]!.error?.get('C')).toBe('25P02');
    expect(units[2]!.error?.get('C')).toBe('25P02');
    expect(ch.units).toEqual([units[3]]);
    ch.route(Z('I'));
    expect(sent.map((t) => String.fromCharCode(t)).join('')).toBe('EZ');
  });

  it('shows a Flush-mode capture failure to the client and skips its pending messages', () => {
    const { ch, sent } = setup();
    const cap = newUnit('capture', 'proxy', { flushMode: true });
    const ex = newUnit('execute', 'client');
    const sync = newUnit('sync', 'client');
    for (const u of [cap, ex, sync]) ch.push(u);
    ch.route(E('42703'));
    expect(cap.error?.get('C')).toBe('42703');
    expect(ex.error?.get('C')).toBe('25P02');
    ch.route(Z('I'));
    expect(sent.map((t) => String.fromCharCode(t)).join('')).toBe('EZ');
  });

  it('passes notices and parameter status of client units, drops notices of its own queries, and aborts cleanly', () => {
    const { ch, sent } = setup();
    ch.push(newUnit('capture', 'proxy'));
    ch.route(simple(BackendType.NoticeResponse));
    ch.route(simple(BackendType.ParameterStatus));
    expect(sent.map((t) => String.fromCharCode(t)).join('')).toBe('S');
    const pending = newUnit('query', 'client');
    ch.push(pending);
    ch.abort();
    expect(ch.units).toHaveLength(0);
    expect(pending.error?.get('C')).toBe('08006');
  });
});
