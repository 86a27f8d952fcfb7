// rmsNorm and layerNorm on the GPU vs the references (row-reduction class: NMSE ≤ 1e-6).
import { describe } from 'vitest';
import { randn } from '../../testing/random.ts';
import { kernelTests, nmseBelow } from '../testing.ts';
import { layerNormRef, rmsNormRef } from './norm.ref.ts';
import { layerNorm, rmsNorm } from './norm.ts';

// Widths: 1, primes, non-multiples of the workgroup sizes, real Kimi-VL widths.
const WIDTHS = [1, 7, 127, 129, 257, 1152, 2048, 4608, 11264];
const ROWS = [1, 3, 17];

describe('rmsNorm / layerNorm on the GPU vs rmsNormRef / layerNormRef', () => {
  kernelTests({
    op: 'norm',
    cases: WIDTHS.flatMap((d) => ROWS.map((rows) => ({ rows, d }))),
    name: ({ rows, d }) => `rmsNorm / layerNorm rows=${rows} D=${d}`,
    seed: ({ rows, d }) => rows * 100_003 + d,
    inputs: ({ rows, d }, seed) => {
      const x = randn(rows * d, seed, 2);
      for (let i = 0; i < x.length; i++) x[i]! += 0.5; // non-zero mean exercises LayerNorm's centring
      return { x, w: randn(d, seed + 1), b: randn(d, seed + 2) };
    },
    run: (g, { x, w, b }, { rows, d }) => {
      const [tx, tw, tb] = [g.upload(x, [rows, d]), g.upload(w, [d]), g.upload(b, [d])];
      return { rmsNorm: rmsNorm(g.rt, tx, tw, 1e-6), layerNorm: layerNorm(g.rt, tx, tw, tb, 1e-5) };
    },
    ref: ({ x, w, b }, { rows, d }) => ({
      rmsNorm: rmsNormRef(x, w, rows, d, 1e-6),
      layerNorm: layerNormRef(x, w, b, rows, d, 1e-5),
    }),
    metric: nmseBelow(1e-6),
  });
});
