import { describe, expect, it } from 'vitest';
import type { WeightDType } from '../tensor/types.ts';
import type { PlannedWeight } from './assemble.ts';
import { planShards } from './shard_plan.ts';

/** A planned f32 weight of `n` elements (4n data bytes). */
function weight(name: string, n: number, dtype: WeightDType = 'f32'): PlannedWeight {
  return {
    spec: { name, shape: [n], hf: [name], hfShape: [n], part: 'norm', quantizable: false },
    stored: dtype,
    dtype,
  };
}

const layout = (shards: ReturnType<typeof planShards>) =>
  shards.map((s) => s.weights.map((w) => w.spec.name));

describe('planShards', () => {
  it('an empty plan gives no shards', () => {
    expect(planShards([], 100)).toEqual([]);
  });

  it('fills shards up to the bound, in order, and names them n-of-total', () => {
    const shards = planShards([weight('a', 10), weight('b', 10), weight('c', 10)], 80);
    expect(layout(shards)).toEqual([['a', 'b'], ['c']]);
    expect(shards.map((s) => s.file)).toEqual([
      'model-00001-of-00002.safetensors',
      'model-00002-of-00002.safetensors',
    ]);
    expect(shards[0]!.entries).toEqual([
      { name: 'a', dtype: 'F32', shape: [10], bytes: 40 },
      { name: 'b', dtype: 'F32', shape: [10], bytes: 40 },
    ]);
  });

  it('a weight larger than the bound gets a shard of its own', () => {
    expect(layout(planShards([weight('a', 1), weight('big', 100), weight('b', 1)], 80))).toEqual([
      ['a'],
      ['big'],
      ['b'],
    ]);
  });

  it('a zero-byte weight never opens a shard and never sits alone in one', () => {
    // leading: it rides with the next weight, even an oversized one
    expect(layout(planShards([weight('empty', 0), weight('big', 100)], 80))).toEqual([['empty', 'big']]);
    // after an oversized weight (the current shard is already past the bound): it still joins it
    expect(layout(planShards([weight('big', 100), weight('empty', 0), weight('b', 1)], 80))).toEqual([
      ['big', 'empty'],
      ['b'],
    ]);
    // exactly at the bound
    expect(layout(planShards([weight('a', 20), weight('empty', 0), weight('b', 1)], 80))).toEqual([
      ['a', 'empty'],
      ['b'],
    ]);
    expect(planShards([weight('empty', 0)], 80)[0]!.entries[0]!.bytes).toBe(0);
  });

  it('a plan of only zero-byte weights is one shard', () => {
    expect(layout(planShards([weight('e1', 0), weight('e2', 0)], 80))).toEqual([['e1', 'e2']]);
  });
});
