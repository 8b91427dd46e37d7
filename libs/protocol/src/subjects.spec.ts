import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from './errors.ts';
import {
  CHECKPOINTS_SUBJECT,
  PROXY_COMMITMENTS_SUBJECT,
  REPLAY_RESULTS_SUBJECT,
  Streams,
  blocksSubject,
  changesSubject,
  deadLetterSubject,
  parseSubject,
  partitionedFilter,
  rootsSubject,
  subjectToken,
  subjectTokenToName,
} from './subjects.ts';

const utf8Len = (s: string): number => new TextEncoder().encode(s).length;
// Names: any well-formed Unicode (full code points, so no lone surrogates), 1..255 UTF-8 bytes.
const name = fc.string({ unit: 'binary', minLength: 1, maxLength: 80 }).filter((s) => utf8Len(s) <= 255);
const TOKEN = /^[A-Za-z0-9_~-]+$/;

describe('subject tokens', () => {
  it('known answers', () => {
    expect(subjectToken('public.users')).toBe('public~2Eusers');
    expect(subjectToken('pg-main')).toBe('pg-main');
    expect(subjectToken('a b*>~')).toBe('a~20b~2A~3E~7E');
    expect(subjectToken('café')).toBe('caf~C3~A9');
    expect(subjectToken('$SYS')).toBe('~24SYS');
    expect(subjectTokenToName('caf~C3~A9')).toBe('café');
  });

  it('round trip: decode(encode(name)) = name, and tokens hold only safe characters', () => {
    fc.assert(
      fc.property(name, (n) => {
        const t = subjectToken(n);
        expect(t).toMatch(TOKEN);
        expect(subjectTokenToName(t)).toBe(n);
      }),
      { numRuns: 1000 },
    );
  });

  it('canonical: every token that decodes is the encoding of its name (one token per name)', () => {
    const chars = fc.constantFrom('a', 'Z', '0', '-', '_', '~', '2', 'E', 'e', 'C', '3', 'A', '9', 'F', '.', ' ');
    fc.assert(
      fc.property(fc.string({ unit: chars, minLength: 1, maxLength: 12 }), (t) => {
        let n: string;
        try {
          n = subjectTokenToName(t);
        } catch (e) {
          expect(e).toBeInstanceOf(ProtocolError);
          return;
        }
        expect(subjectToken(n)).toBe(t);
      }),
      { numRuns: 2000 },
    );
  });

  it.each([
    ['', 'empty'],
    ['a.b', 'dot'],
    ['a*', 'star'],
    ['>', 'gt'],
    ['a b', 'space'],
    ['a\tb', 'tab'],
    ['é', 'raw non-ASCII'],
    ['~2e', 'lower-case hex'],
    ['~41', 'escaped plain character'],
    ['~', 'lone escape'],
    ['~4', 'short escape'],
    ['~ZZ', 'non-hex escape'],
    ['~FF', 'not UTF-8'],
    ['~C3', 'truncated UTF-8'],
    ['~ED~A0~80', 'UTF-8 of a surrogate'],
  ])('rejects %j (%s)', (token) => {
    expect(() => subjectTokenToName(token)).toThrow(ProtocolError);
  });

  it('rejects names that cannot be tokens', () => {
    expect(() => subjectToken('')).toThrow(RangeError);
    expect(() => subjectToken('x'.repeat(256))).toThrow(RangeError);
    expect(() => subjectToken('a\uD800b')).toThrow(RangeError);
    expect(() => subjectToken(5 as unknown as string)).toThrow(TypeError);
    expect(subjectToken('x'.repeat(255))).toHaveLength(255);
  });
});

describe('subjects', () => {
  it('builds the documented subjects', () => {
    expect(changesSubject('pg-main', 'public.users')).toBe('ms.changes.pg-main.public~2Eusers');
    expect(blocksSubject('mongo', 'shop.orders')).toBe('ms.blocks.mongo.shop~2Eorders');
    expect(rootsSubject('pg-main', 'users')).toBe('ms.roots.pg-main.users');
    expect(deadLetterSubject(Streams.changes.name)).toBe('ms.dlq.MS_CHANGES');
    expect(partitionedFilter('changes')).toBe('ms.changes.>');
    expect(partitionedFilter('changes', 'pg.main')).toBe('ms.changes.pg~2Emain.>');
    expect(partitionedFilter('roots', 'a', 'b')).toBe('ms.roots.a.b');
    expect(() => partitionedFilter('roots', undefined, 'b')).toThrow(RangeError);
  });

  it('parse(build(source, table)) round trips for every partitioned family', () => {
    fc.assert(
      fc.property(name, name, (source, table) => {
        for (const [kind, build] of [['changes', changesSubject], ['blocks', blocksSubject], ['roots', rootsSubject]] as const) {
          const s = build(source, table);
          expect(s.split('.')).toHaveLength(4);
          expect(parseSubject(s)).toEqual({ kind, source, table });
        }
        expect(parseSubject(deadLetterSubject(source))).toEqual({ kind: 'dlq', stream: source });
      }),
      { numRuns: 300 },
    );
  });

  it('parses the fixed subjects and rejects everything else', () => {
    expect(parseSubject(CHECKPOINTS_SUBJECT)).toEqual({ kind: 'checkpoints' });
    expect(parseSubject(PROXY_COMMITMENTS_SUBJECT)).toEqual({ kind: 'proxy-commitments' });
    expect(parseSubject(REPLAY_RESULTS_SUBJECT)).toEqual({ kind: 'replay-results' });
    for (const bad of ['', 'ms', 'xs.checkpoints', 'ms.checkpoints.x', 'ms.changes.a', 'ms.changes.a.b.c', 'ms.changes.a.>', 'ms.changes.*.b',
      'ms.proxy.other', 'ms.replay', 'ms.dlq', 'ms.unknown.a', 'ms.roots.a.b~2e', 'ms.changes..b']) {
      expect(() => parseSubject(bad), bad).toThrow(ProtocolError);
    }
  });

  it('streams capture disjoint subject sets that cover every family', () => {
    const subjects = Object.values(Streams).flatMap((s) => s.subjects);
    expect(new Set(subjects).size).toBe(subjects.length);
    const samples = [changesSubject('a', 'b'), blocksSubject('a', 'b'), rootsSubject('a', 'b'), CHECKPOINTS_SUBJECT, PROXY_COMMITMENTS_SUBJECT, REPLAY_RESULTS_SUBJECT, deadLetterSubject('MS_ROOTS')];
    const matches = (filter: string, s: string): boolean => {
      const f = filter.split('.');
      const t = s.split('.');
      for (let i = 0; i < f.length; i++) {
        if (f[i] === '>') return t.length > i;
        if (f[i] !== '*' && f[i] !== t[i]) return false;
      }
      return f.length === t.length;
    };
    for (const s of samples) {
      expect(Object.values(Streams).filter((st) => st.subjects.some((f) => matches(f, s))), s).toHaveLength(1);
    }
  });
});
