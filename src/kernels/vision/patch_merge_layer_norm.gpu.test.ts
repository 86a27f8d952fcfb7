import { describe, expect, test } from 'vitest';
import type { WeightDType } from '../../tensor/types.ts';
import { encodeWeight, randn } from '../../testing/random.ts';
import { hostWeightToF32 } from '../ref_tensor.ts';
import { expectGuardsIntact, nmse, testRuntime } from '../testing.ts';
import type { Grid } from '../types.ts';
import { GpuTableCache } from './gpu_table_cache.ts';
import { totalPatches } from './grids.ts';
import { patchMergeLayerNormRef } from './patch_merge_layer_norm.ref.ts';
import { patchMergeLayerNorm } from './patch_merge_layer_norm.ts';

const CASES: Array<{ d: number; grids: Grid[] }> = [
  { d: 64, grids: [{ h: 2, w: 2 }] },
  {
    d: 13,
    grids: [
      { h: 2, w: 6 },
      { h: 10, w: 14 },
    ],
  },
  {
    d: 48,
    grids: [
      { h: 4, w: 8 },
      { h: 2, w: 2 },
      { h: 6, w: 4 },
    ],
  },
  {
    d: 1152,
    grids: [
      { h: 10, w: 14 },
      { h: 2, w: 2 },
    ],
  },
];
const DTYPES: WeightDType[] = ['bf16', 'f16', 'f32'];

describe('patchMergeLayerNorm on the GPU vs patchMergeLayerNormRef', () => {
  for (const dtype of DTYPES) {
    for (const { d, grids } of CASES) {
      const L = totalPatches(grids);
      const seed = L * 37 + d;
      const what = `${dtype} D=${d} grids ${grids.map((g) => `${g.h}×${g.w}`).join(',')} seed=${seed}`;
      test(what, async () => {
        const rt = await testRuntime();
        const tables = new GpuTableCache(rt);
        // An offset mean checks the two-pass variance.
        const xv = randn(L * d, seed, 3).map((v) => v + 5);
        const wh = encodeWeight(
          randn(d, seed + 1).map((v) => 1 + 0.5 * v),
          [d],
          dtype,
        );
        const bh = encodeWeight(randn(d, seed + 2, 0.5), [d], dtype);
        const x = rt.upload(xv, [L, d]);
        const w = rt.uploadWeight(wh);
        const b = rt.uploadWeight(bh);
        const y = patchMergeLayerNorm(rt, tables, x, grids, w, b, 1e-5);
        expect(y.shape).toEqual([L / 4, 4 * d]);
        const got = await rt.read(y);
        const want = patchMergeLayerNormRef(xv, d, grids, hostWeightToF32(wh), hostWeightToF32(bh), 1e-5);
        // Row-reduction class: NMSE ≤ 1e-6.
        expect(nmse(got, want), `${what}: NMSE`).toBeLessThan(1e-6);
        await expectGuardsIntact(rt, y, what);
        tables.clear();
        rt.free(x, w, b, y);
      });
    }
  }
});
