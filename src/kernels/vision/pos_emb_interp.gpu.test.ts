import { describe, expect, test } from 'vitest';
import type { WeightDType } from '../../tensor/types.ts';
import { encodeWeight, randn } from '../../testing/random.ts';
import { hostWeightToF32 } from '../ref_tensor.ts';
import { expectGuardsIntact, maxAbsDiff, testRuntime } from '../testing.ts';
import type { Grid } from '../types.ts';
import { posEmbInterpRef } from './pos_emb_interp.ref.ts';
import { posEmbInterp } from './pos_emb_interp.ts';

// [H0, W0, D] tables × grids: identity size, up- and down-sampling, odd D (packed halves straddle rows),
// several images, the real table (64×64×1152) on a primes-ish grid.
const CASES: Array<{ table: [number, number, number]; grids: Grid[] }> = [
  { table: [8, 8, 64], grids: [{ h: 8, w: 8 }] },
  { table: [8, 8, 64], grids: [{ h: 2, w: 2 }] },
  {
    table: [6, 10, 48],
    grids: [
      { h: 6, w: 4 },
      { h: 8, w: 10 },
    ],
  },
  {
    table: [5, 7, 13],
    grids: [
      { h: 2, w: 6 },
      { h: 14, w: 10 },
      { h: 1, w: 1 },
    ],
  },
  { table: [64, 64, 1152], grids: [{ h: 10, w: 14 }] },
];
const DTYPES: WeightDType[] = ['f32', 'bf16', 'f16'];

describe('posEmbInterp on the GPU vs posEmbInterpRef', () => {
  for (const dtype of DTYPES) {
    for (const { table, grids } of CASES) {
      const [h0, w0, d] = table;
      const seed = h0 * 7919 + w0 * 104729 + d + grids.length;
      const what = `${dtype} table ${h0}×${w0}×${d} grids ${grids.map((g) => `${g.h}×${g.w}`).join(',')} seed=${seed}`;
      test(what, async () => {
        const rt = await testRuntime();
        const host = encodeWeight(randn(h0 * w0 * d, seed), [h0, w0, d], dtype);
        const w = rt.uploadWeight(host);
        const y = posEmbInterp(rt, w, grids);
        const got = await rt.read(y);
        const want = posEmbInterpRef(hostWeightToF32(host), h0, w0, d, grids);
        // A 16-tap weighted sum, but the source coordinate scale·(dst + 0.5) − 0.5 is f32 as in torch: for a
        // 64-wide table ulp(63) ≈ 4e-6 moves t and so the output by ~1e-6·|table|. Hold the max error to
        // 1e-5 of the output's range (the goldens allow 1e-4).
        let range = 0;
        for (const v of want) range = Math.max(range, Math.abs(v));
        const err = maxAbsDiff(got, want) / range;
        expect(err, `${what}: max|Δ|/max|want|`).toBeLessThan(1e-5);
        await expectGuardsIntact(rt, y, what);
        rt.free(w, y);
      });
    }
  }
});
