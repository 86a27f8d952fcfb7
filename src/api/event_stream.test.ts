import { describe, expect, it } from 'vitest';
import { EventStream } from './event_stream.ts';

async function drain<T>(s: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const v of s) out.push(v);
  return out;
}

describe('EventStream', () => {
  it('yields pushed values in order, including ones pushed before reading', async () => {
    const s = new EventStream<number>();
    s.push(1);
    s.push(2);
    const p = drain(s);
    setTimeout(() => {
      s.push(3);
      s.end();
      s.push(4); // after end: ignored
    }, 5);
    expect(await p).toEqual([1, 2, 3]);
  });

  it('throws the failure after the buffered values', async () => {
    const s = new EventStream<string>();
    s.push('a');
    s.fail(Object.assign(new Error('lost'), { name: 'DeviceLostError' }));
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const v of s) seen.push(v);
      })(),
    ).rejects.toMatchObject({ name: 'DeviceLostError' });
    expect(seen).toEqual(['a']);
  });

  it('breaking out of the loop calls onReturn once (cancel), finishing does not', async () => {
    let returned = 0;
    const s = new EventStream<number>(() => returned++);
    s.push(1);
    s.push(2);
    for await (const v of s) if (v === 1) break;
    expect(returned).toBe(1);

    let r2 = 0;
    const done = new EventStream<number>(() => r2++);
    done.push(1);
    done.end();
    await drain(done);
    expect(r2).toBe(0);
  });

  it('can be iterated only once', () => {
    const s = new EventStream<number>();
    s[Symbol.asyncIterator]();
    expect(() => s[Symbol.asyncIterator]()).toThrow(/once/);
  });
});
