import { describe, expect, it } from 'vitest';
import { RequestQueue } from './request_queue.ts';

const tick = () => new Promise((r) => setTimeout(r, 1));

describe('RequestQueue', () => {
  it('runs requests one at a time in arrival order', async () => {
    const q = new RequestQueue();
    const log: string[] = [];
    const job = (name: string, steps: number) => async () => {
      for (let i = 0; i < steps; i++) {
        log.push(`${name}${i}`);
        await tick();
      }
      return name;
    };
    const results = await Promise.all([q.run(1, job('a', 3)), q.run(2, job('b', 2)), q.run(3, job('c', 1))]);
    expect(results).toEqual(['a', 'b', 'c']);
    expect(log).toEqual(['a0', 'a1', 'a2', 'b0', 'b1', 'c0']);
    expect(q.size).toBe(0);
  });

  it('a failing request does not block the next one', async () => {
    const q = new RequestQueue();
    const a = q.run(1, async () => {
      throw new Error('boom');
    });
    const b = q.run(2, async () => 'ok');
    await expect(a).rejects.toThrow('boom');
    await expect(b).resolves.toBe('ok');
  });

  it('cancels a running request between steps and a queued one before it starts', async () => {
    const q = new RequestQueue();
    let steps = 0;
    const running = q.run(1, async (isCancelled) => {
      while (!isCancelled()) {
        steps++;
        await tick();
      }
      return 'stopped';
    });
    let queuedSawCancel: boolean | null = null;
    const queued = q.run(2, async (isCancelled) => {
      queuedSawCancel = isCancelled();
      return 'done';
    });
    await tick();
    q.cancel(2);
    q.cancel(1);
    expect(await running).toBe('stopped');
    expect(await queued).toBe('done');
    expect(queuedSawCancel).toBe(true);
    expect(steps).toBeGreaterThan(0);
  });

  it('ignores cancel for unknown or finished ids (no leak into a reused id)', async () => {
    const q = new RequestQueue();
    await q.run(5, async () => 1);
    q.cancel(5);
    q.cancel(99);
    let saw = true;
    await q.run(5, async (c) => {
      saw = c();
    });
    expect(saw).toBe(false);
  });
});

describe('RequestQueue.abortAll', () => {
  it('rejects queued requests at once and the running one when it has stopped', async () => {
    const q = new RequestQueue();
    let ran = false;
    const running = q.run(1, async (isCancelled) => {
      while (!isCancelled()) await tick();
      return 'stopped';
    });
    const queued = q.run(2, async () => {
      ran = true;
      return 'ran';
    });
    await tick();
    const t0 = Date.now();
    expect(q.abortAll(() => new Error('unloaded'))).toBe(2);
    await expect(queued).rejects.toThrow('unloaded');
    await expect(running).rejects.toThrow('unloaded');
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(ran).toBe(false);
    expect(q.size).toBe(0);
    // The queue keeps working afterwards.
    await expect(q.run(3, async () => 'next')).resolves.toBe('next');
  });
});
