import { describe, expect, it } from 'vitest';
import { checkpointDue, checkpointDueBy } from './checkpoint-policy.ts';

describe('checkpointDue', () => {
  const p = { everyChanges: 100, everyMs: 1000 };
  it('never without changes', () => expect(checkpointDue({ ...p, changesSince: 0, elapsedMs: 1e9 })).toBe(false));
  it('after N changes', () => {
    expect(checkpointDue({ ...p, changesSince: 99, elapsedMs: 0 })).toBe(false);
    expect(checkpointDue({ ...p, changesSince: 100, elapsedMs: 0 })).toBe(true);
  });
  it('after T ms with a change', () => {
    expect(checkpointDue({ ...p, changesSince: 1, elapsedMs: 999 })).toBe(false);
    expect(checkpointDue({ ...p, changesSince: 1, elapsedMs: 1000 })).toBe(true);
  });
  it('names the rule: the count first, then the time', () => {
    expect(checkpointDueBy({ ...p, changesSince: 100, elapsedMs: 1000 })).toBe('changes');
    expect(checkpointDueBy({ ...p, changesSince: 99, elapsedMs: 1000 })).toBe('time');
    expect(checkpointDueBy({ ...p, changesSince: 99, elapsedMs: 999 })).toBeUndefined();
    expect(checkpointDueBy({ ...p, changesSince: 0, elapsedMs: 1e9 })).toBeUndefined();
  });
});
