import { describe, expect, it } from 'vitest';
import { Signal } from './signal.ts';

const settled = async (p: Promise<void>): Promise<boolean> => {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((r) => setImmediate(r));
  return done;
};

describe('Signal', () => {
  it('wakes the waiter at the next notify; a notify with nobody waiting is dropped', async () => {
    const s = new Signal();
    s.notify();
    const w = s.wait();
    expect(await settled(w)).toBe(false);
    s.notify();
    expect(await settled(w)).toBe(true);
  });

  it('ends a wait with a timeout when nothing notifies, and a later notify is then dropped', async () => {
    const s = new Signal();
    const t0 = performance.now();
    await s.wait(20);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(15);
    s.notify();
    expect(await settled(s.wait())).toBe(false);
  });
});
