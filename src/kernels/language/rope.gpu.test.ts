// rope and kvCacheWrite on the GPU vs the references: awkward shapes, real MLA sizes, guard words.
import { describe, expect, test } from 'vitest';
import { asGpu } from '../../gpu/tensor.ts';
import { randn } from '../../testing/random.ts';
import { expectGuardsIntact, firstMismatch, testRuntime } from '../testing.ts';
import { kvCacheWriteRef } from './kv_cache_write.ref.ts';
import { kvCacheWrite } from './kv_cache_write.ts';
import { type RopeOptionsExt, ropeRef, ropeYarnFromConfig } from './rope.ref.ts';
import { rope } from './rope.ts';

// [T, heads, stride, offset, ropeDim, pos0]
const CASES: Array<[number, number, number, number, number, number]> = [
  [1, 1, 2, 0, 2, 0],
  [3, 2, 7, 1, 4, 5],
  [5, 3, 24, 8, 16, 0],
  [17, 16, 192, 128, 64, 0], // real q: 16 heads × (128 nope + 64 rope)
  [1, 16, 192, 128, 64, 4093], // decode far into the context (the table grows)
  [17, 1, 64, 0, 64, 3], // real k_pe
];

describe('rope on the GPU vs ropeRef', () => {
  for (const [T, heads, stride, offset, ropeDim, pos0] of CASES) {
    const seed = T * 7919 + heads * 31 + stride + pos0;
    test(`T=${T} heads=${heads} stride=${stride} offset=${offset} rope=${ropeDim} pos0=${pos0} seed=${seed}`, async () => {
      const rt = await testRuntime();
      const C = heads * stride;
      const xv = randn(T * C, seed);
      const o: RopeOptionsExt = { heads, headStride: stride, offset, ropeDim, theta: 800000, pos0 };
      const x = rt.upload(xv, [T, C]);
      const y = rope(rt, x, o);
      const got = await rt.read(y);
      // elementwise class: allclose(atol 1e-6, rtol 1e-5) (cos/sin come from the same f64 table)
      expect(firstMismatch(got, ropeRef(xv, T, C, o), 1e-6, 1e-5), `seed ${seed}`).toBe(-1);
      await expectGuardsIntact(rt, y, 'rope');
      rt.free(x, y);
    });
  }
  test('YaRN-scaled frequencies', async () => {
    const rt = await testRuntime();
    const yarn = ropeYarnFromConfig(
      {
        type: 'yarn',
        factor: 40,
        originalMaxPositionEmbeddings: 4096,
        betaFast: 32,
        betaSlow: 1,
        mscale: 0.8,
        mscaleAllDim: 1,
      },
      64,
      10000,
    );
    const o: RopeOptionsExt = {
      heads: 2,
      headStride: 64,
      offset: 0,
      ropeDim: 64,
      theta: 10000,
      pos0: 100,
      yarn,
    };
    const xv = randn(3 * 128, 5);
    const x = rt.upload(xv, [3, 128]);
    const got = await rt.read(asGpu(rope(rt, x, o)));
    expect(firstMismatch(got, ropeRef(xv, 3, 128, o), 1e-6, 1e-5)).toBe(-1);
  });
});

describe('kvCacheWrite on the GPU vs kvCacheWriteRef', () => {
  for (const [T, R, P, ctx, pos0] of [
    [1, 3, 2, 4, 3],
    [5, 24, 16, 9, 2],
    [17, 512, 64, 40, 0],
    [1, 512, 64, 40, 39],
  ] as const) {
    test(`T=${T} R=${R} P=${P} ctx=${ctx} pos0=${pos0}`, async () => {
      const rt = await testRuntime();
      const seed = T * 13 + R + P + pos0;
      const before = randn(ctx * (R + P), seed);
      const cv = randn(T * R, seed + 1);
      const kv = randn(T * P, seed + 2);
      const cache = rt.upload(before, [ctx, R + P]);
      const c = rt.upload(cv, [T, R]);
      const k = rt.upload(kv, [T, P]);
      kvCacheWrite(rt, cache, c, k, pos0);
      const want = Float32Array.from(before);
      kvCacheWriteRef(want, cv, kv, T, R, P, pos0);
      // a copy: exact, and every row outside pos0..pos0+T−1 untouched
      expect(Array.from(await rt.read(cache))).toEqual(Array.from(want));
      await expectGuardsIntact(rt, cache, 'kvCacheWrite');
      rt.free(cache, c, k);
    });
  }
});
