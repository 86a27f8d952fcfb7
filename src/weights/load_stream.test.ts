// ShardFeeder: downloads in fetch order with at most `window` shards held, a needed shard (and those
// before it) at once, a released slot going to the next shard, failures seen by need() only.
import { describe, expect, it } from 'vitest';
import { ShardFeeder } from './load_stream.ts';

function feeder(order: string[], window: number) {
  const started: string[] = [];
  const finish = new Map<string, { ok: () => void; fail: (e: Error) => void }>();
  const f = new ShardFeeder(order, window, (name) => {
    started.push(name);
    return new Promise<void>((ok, fail) => finish.set(name, { ok, fail }));
  });
  return { f, started, finish };
}

describe('ShardFeeder', () => {
  it('fetches in order, at most `window` held, the next one when a shard is released', async () => {
    const { f, started, finish } = feeder(['a', 'b', 'c', 'd'], 2);
    const a = f.need('a');
    expect(started).toEqual(['a', 'b']);
    finish.get('a')!.ok();
    await a;
    f.released('a');
    expect(started).toEqual(['a', 'b', 'c']);
    f.released('b'); // released before its download ended: its slot is free all the same
    expect(started).toEqual(['a', 'b', 'c', 'd']);
  });

  it('a shard needed beyond the window starts at once, with those before it', () => {
    const { f, started } = feeder(['a', 'b', 'c', 'd'], 1);
    void f.need('c');
    expect(started).toEqual(['a', 'b', 'c']);
  });

  it('a failed download rejects need() but is never an unhandled rejection; stop() ends prefetching', async () => {
    const { f, started, finish } = feeder(['a', 'b', 'c'], 2);
    const a = f.need('a');
    finish.get('b')!.fail(new Error('b failed')); // a prefetch nobody awaits yet
    finish.get('a')!.ok();
    await a;
    await expect(f.need('b')).rejects.toThrow('b failed');
    const stopping = f.stop();
    f.released('a');
    expect(started).toEqual(['a', 'b']);
    await stopping;
  });

  it('need() of an unknown file is an internal error', () => {
    expect(() => feeder(['a'], 2).f.need('z')).toThrow(/not a shard of this stream/);
  });
});
