// posEmbInterp on the GPU vs posEmbInterpRef (bicubic, align_corners=False, A = −0.75).
import { describe } from 'vitest';
import type { WeightDType } from '../../tensor/types.ts';
import { encodeWeight, randn } from '../../testing/random.ts';
import { hostWeightToF32 } from '../ref_tensor.ts';
import { grids, kernelTests, rangeRelBelow } from '../testing.ts';
import { gridsKey } from './grids.ts';
import { posEmbInterpRef } from './pos_emb_interp.ref.ts';
import { posEmbInterp } from './pos_emb_interp.ts';

// [H0, W0, D] tables × grids: identity size, up- and down-sampling, odd D (packed halves straddle rows),
// several images, the real table (64×64×1152) on a primes-ish grid.
const CASES: Array<{ table: [number, number, number]; grids: ReturnType<typeof grids> }> = [
  { table: [8, 8, 64], grids: grids('8x8') },
  { table: [8, 8, 64], grids: grids('2x2') },
  { table: [6, 10, 48], grids: grids('6x4,8x10') },
  { table: [5, 7, 13], grids: grids('2x6,14x10,1x1') },
  { table: [64, 64, 1152], grids: grids('10x14') },
];
const DTYPES: WeightDType[] = ['f32', 'bf16', 'f16'];

describe('posEmbInterp on the GPU vs posEmbInterpRef', () => {
  kernelTests({
    op: 'posEmbInterp',
    cases: DTYPES.flatMap((dtype) => CASES.map((c) => ({ ...c, dtype }))),
    name: ({ dtype, table: [h0, w0, d], grids }) =>
      `${dtype} table ${h0}×${w0}×${d} grids ${gridsKey(grids)}`,
    seed: ({ table: [h0, w0, d], grids }) => h0 * 7919 + w0 * 104729 + d + grids.length,
    inputs: ({ table, dtype }, seed) =>
      encodeWeight(randn(table[0] * table[1] * table[2], seed), [...table], dtype),
    run: (g, host, { grids }) => posEmbInterp(g.rt, g.uploadWeight(host), grids),
    ref: (host, { table: [h0, w0, d], grids }) => posEmbInterpRef(hostWeightToF32(host), h0, w0, d, grids),
    // A 16-tap weighted sum, but the source coordinate scale·(dst + 0.5) − 0.5 is f32 as in torch: for a
    // 64-wide table ulp(63) ≈ 4e-6 moves t and so the output by ~1e-6·|table|. Hold the max error to
    // 1e-5 of the output's range (the goldens allow 1e-4).
    metric: rangeRelBelow(1e-5),
  });
});
