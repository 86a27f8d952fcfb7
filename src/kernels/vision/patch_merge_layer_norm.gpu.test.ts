// patchMergeLayerNorm on the GPU vs patchMergeLayerNormRef (row-reduction class: NMSE ≤ 1e-6): one and
// several images, odd and real widths, every parameter storage form. An offset mean checks the two-pass
// variance.
import { describe, expect } from 'vitest';
import type { WeightDType } from '../../tensor/types.ts';
import { encodeWeight, randn } from '../../testing/random.ts';
import { hostWeightToF32 } from '../ref_tensor.ts';
import { grids, kernelTests, nmseBelow } from '../testing.ts';
import { gridsKey, totalPatches } from './grids.ts';
import { patchMergeLayerNormRef } from './patch_merge_layer_norm.ref.ts';
import { patchMergeLayerNorm } from './patch_merge_layer_norm.ts';

const CASES = [
  { d: 64, grids: grids('2x2') },
  { d: 13, grids: grids('2x6,10x14') },
  { d: 48, grids: grids('4x8,2x2,6x4') },
  { d: 1152, grids: grids('10x14,2x2') },
];
const DTYPES: WeightDType[] = ['bf16', 'f16', 'f32'];

describe('patchMergeLayerNorm on the GPU vs patchMergeLayerNormRef', () => {
  kernelTests({
    op: 'patchMergeLayerNorm',
    cases: DTYPES.flatMap((dtype) => CASES.map((c) => ({ ...c, dtype, L: totalPatches(c.grids) }))),
    name: ({ dtype, d, grids }) => `${dtype} D=${d} grids ${gridsKey(grids)}`,
    seed: ({ L, d }) => L * 37 + d,
    inputs: ({ L, d, dtype }, seed) => ({
      x: randn(L * d, seed, 3).map((v) => v + 5),
      w: encodeWeight(
        randn(d, seed + 1).map((v) => 1 + 0.5 * v),
        [d],
        dtype,
      ),
      b: encodeWeight(randn(d, seed + 2, 0.5), [d], dtype),
    }),
    run: (g, { x, w, b }, { L, d, grids }) => {
      const y = patchMergeLayerNorm(
        g.rt,
        g.tables,
        g.upload(x, [L, d]),
        grids,
        g.uploadWeight(w),
        g.uploadWeight(b),
        1e-5,
      );
      expect(y.shape).toEqual([L / 4, 4 * d]);
      return y;
    },
    ref: ({ x, w, b }, { d, grids }) =>
      patchMergeLayerNormRef(x, d, grids, hostWeightToF32(w), hostWeightToF32(b), 1e-5),
    metric: nmseBelow(1e-6),
  });
});
