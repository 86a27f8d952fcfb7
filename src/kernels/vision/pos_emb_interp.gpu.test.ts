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

// Grid rows [start, start + count) of one image (an image chunk under a buffer limit): the same rows of
// the whole table, first row, a middle band, the last row alone, odd D, the real table.
const ROW_CASES: Array<{ table: [number, number, number]; grid: string; start: number; count: number }> = [
  { table: [6, 10, 48], grid: '8x10', start: 0, count: 2 },
  { table: [6, 10, 48], grid: '8x10', start: 2, count: 4 },
  { table: [5, 7, 13], grid: '14x10', start: 13, count: 1 },
  { table: [64, 64, 1152], grid: '10x14', start: 3, count: 5 },
];

describe('posEmbInterp grid rows on the GPU vs the rows of posEmbInterpRef', () => {
  kernelTests({
    op: 'posEmbInterp',
    cases: DTYPES.flatMap((dtype) => ROW_CASES.map((c) => ({ ...c, dtype }))),
    name: ({ dtype, table: [h0, w0, d], grid, start, count }) =>
      `${dtype} table ${h0}×${w0}×${d} grid ${grid} rows ${start}+${count}`,
    seed: ({ table: [h0, w0, d], start, count }) => h0 * 7919 + w0 * 104729 + d + start * 31 + count,
    inputs: ({ table, dtype }, seed) =>
      encodeWeight(randn(table[0] * table[1] * table[2], seed), [...table], dtype),
    run: (g, host, { grid, start, count }) =>
      posEmbInterp(g.rt, g.uploadWeight(host), grids(grid), { start, count }),
    ref: (host, { table: [h0, w0, d], grid, start, count }) => {
      const gr = grids(grid);
      const all = posEmbInterpRef(hostWeightToF32(host), h0, w0, d, gr);
      return all.slice(start * gr[0]!.w * d, (start + count) * gr[0]!.w * d);
    },
    metric: rangeRelBelow(1e-5), // as above
  });
});
