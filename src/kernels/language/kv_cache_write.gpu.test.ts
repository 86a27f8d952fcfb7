// kvCacheWrite on the GPU vs kvCacheWriteRef: a copy, so exact, and every row outside pos0..pos0+T−1
// untouched (the whole cache is compared). Guard words past the cache.
import { describe } from 'vitest';
import { randn } from '../../testing/random.ts';
import { exact, kernelTests } from '../testing.ts';
import { kvCacheWriteRef } from './kv_cache_write.ref.ts';
import { kvCacheWrite } from './kv_cache_write.ts';

// [T, R, P, ctx, pos0]
const CASES: Array<[number, number, number, number, number]> = [
  [1, 3, 2, 4, 3],
  [5, 24, 16, 9, 2],
  [17, 512, 64, 40, 0],
  [1, 512, 64, 40, 39],
];

describe('kvCacheWrite on the GPU vs kvCacheWriteRef', () => {
  kernelTests({
    op: 'kvCacheWrite',
    cases: CASES,
    name: ([T, R, P, ctx, pos0]) => `T=${T} R=${R} P=${P} ctx=${ctx} pos0=${pos0}`,
    seed: ([T, R, P, , pos0]) => T * 13 + R + P + pos0,
    inputs: ([T, R, P, ctx], seed) => ({
      before: randn(ctx * (R + P), seed),
      c: randn(T * R, seed + 1),
      kPe: randn(T * P, seed + 2),
    }),
    run: (g, { before, c, kPe }, [T, R, P, ctx, pos0]) => {
      const cache = g.upload(before, [ctx, R + P]);
      kvCacheWrite(g.rt, cache, g.upload(c, [T, R]), g.upload(kPe, [T, P]), pos0);
      return cache;
    },
    ref: ({ before, c, kPe }, [T, R, P, , pos0]) => {
      const want = Float32Array.from(before);
      kvCacheWriteRef(want, c, kPe, T, R, P, pos0);
      return want;
    },
    metric: exact,
  });
});
