import { describe, expect, it } from 'vitest';
import { type LoadProgress, ProgressTracker, runBounded } from './load_progress.ts';

describe('ProgressTracker', () => {
  it('sums files, reaches exactly 1 only when done, and never double-counts a resumed file', () => {
    const events: LoadProgress[] = [];
    const t = new ProgressTracker((p) => events.push(p));
    t.startPhase('download', [
      { name: 'a', size: 100 },
      { name: 'b', size: null },
    ]);
    t.set('a', 40, 40);
    t.set('a', 0, 0); // a restart from byte 0
    t.set('a', 100, 100);
    t.setTotal('b', 50);
    t.set('b', 50, 50);
    const s = t.snapshot();
    expect(s).toMatchObject({ phase: 'download', bytesDone: 150, bytesTotal: 150 });
    expect(s.fraction).toBeLessThan(1);
    expect(s.files.map((f) => [f.name, f.bytesDone, f.bytesTotal, f.fromCache])).toEqual([
      ['a', 100, 100, false],
      ['b', 50, 50, false],
    ]);
    expect(t.network).toBe(190);
    t.done();
    expect(events[events.length - 1]).toMatchObject({
      phase: 'done',
      fraction: 1,
      bytesDone: 150,
      bytesTotal: 150,
    });
    expect(events[0]).toMatchObject({ phase: 'download', bytesDone: 0, bytesTotal: 100 });
  });

  it('throttles bursts but always delivers the latest state afterwards', async () => {
    const events: LoadProgress[] = [];
    const t = new ProgressTracker((p) => events.push(p));
    t.startPhase('download', [{ name: 'a', size: 1000 }]);
    for (let i = 1; i <= 10; i++) t.set('a', i * 100, 100);
    expect(events.length).toBe(1); // the burst is throttled...
    await new Promise((r) => setTimeout(r, 150));
    expect(events.length).toBe(2); // ...and its end still arrives, although nothing else happens
    expect(events[1]!.bytesDone).toBe(1000);
  });

  it('survives a throwing progress callback', () => {
    const t = new ProgressTracker(() => {
      throw new Error('ui bug');
    });
    t.startPhase('verify', [{ name: 'x', size: 1, fromCache: true }]);
    expect(() => t.done()).not.toThrow();
  });
});

describe('runBounded', () => {
  it('never runs more than `limit` tasks at once and runs each item once', async () => {
    let active = 0;
    let peak = 0;
    const done: number[] = [];
    await runBounded([1, 2, 3, 4, 5, 6, 7], 3, async (i) => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, 5 + (i % 3) * 3));
      done.push(i);
      active--;
    });
    expect(peak).toBe(3);
    expect(done.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('rethrows the first failure and starts nothing new after it', async () => {
    const started: number[] = [];
    const p = runBounded([1, 2, 3, 4, 5], 1, async (i) => {
      started.push(i);
      if (i === 2) throw new Error('boom');
    });
    await expect(p).rejects.toThrow('boom');
    expect(started).toEqual([1, 2]);
  });
});
