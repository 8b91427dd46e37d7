// NATS subject wildcard matching for routing a message to its @EventPattern: `*` matches exactly one token,
// a final `>` one or more.

/**
 * True when `subject` (concrete) matches `pattern` (may hold `*` and a final `>`).
 * @example subjectMatches('ms.changes.>', 'ms.changes.pg.users') // true
 */
export function subjectMatches(pattern: string, subject: string): boolean {
  if (pattern === subject) return true;
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    const t = p[i];
    if (t === '>') return i === p.length - 1 && s.length > i;
    if (i >= s.length) return false;
    if (t !== '*' && t !== s[i]) return false;
  }
  return p.length === s.length;
}

/**
 * Picks the handler for a subject: an exact pattern first, else the first registered wildcard pattern that
 * matches (register the most specific first).
 * @example routeSubject(['ms.changes.>'], 'ms.changes.pg.users') // 'ms.changes.>'
 */
export function routeSubject(patterns: readonly string[], subject: string): string | undefined {
  if (patterns.includes(subject)) return subject;
  return patterns.find((p) => subjectMatches(p, subject));
}
