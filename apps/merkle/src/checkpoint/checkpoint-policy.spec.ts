import { describe, expect, it } from 'vitest';
import { checkpointDue } from './checkpoint-policy.ts';

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
});
