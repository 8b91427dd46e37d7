import { describe, expect, it } from 'vitest';
import { routeSubject, subjectMatches } from './subject-match.ts';

describe('subject routing', () => {
  it('matches NATS wildcards', () => {
    expect(subjectMatches('ms.changes.>', 'ms.changes.pg.users')).toBe(true);
    expect(subjectMatches('ms.changes.>', 'ms.changes')).toBe(false);
    expect(subjectMatches('ms.changes.*.users', 'ms.changes.pg.users')).toBe(true);
    expect(subjectMatches('ms.changes.*', 'ms.changes.pg.users')).toBe(false);
    expect(subjectMatches('ms.roots.>', 'ms.changes.pg.users')).toBe(false);
  });

  it('prefers an exact pattern, then the first matching wildcard', () => {
    expect(routeSubject(['ms.changes.>', 'ms.changes.pg.users'], 'ms.changes.pg.users')).toBe('ms.changes.pg.users');
    expect(routeSubject(['ms.changes.pg.>', 'ms.changes.>'], 'ms.changes.pg.orders')).toBe('ms.changes.pg.>');
    expect(routeSubject(['ms.roots.>'], 'ms.changes.pg.orders')).toBeUndefined();
  });
});
