// varlenAttention on the GPU vs varlenAttentionRef: block-diagonal per image, no L×L scores.
import { describe } from 'vitest';
import { randn } from '../../testing/random.ts';
import { kernelTests, nmseBelow, qkvCase } from '../testing.ts';
import { varlenAttentionRef } from './varlen_attention.ref.ts';
import { varlenAttention } from './varlen_attention.ts';

// Grids: 1 patch, one 2×2 image, primes-ish grids (tiles not multiples of 64 or of the 16-key chunk),
// several images of different sizes (tiles must not straddle images), head dims 4…128 incl. the real 72
// with 16 heads, and a 24×24 image at real head sizes. Input scale > 1 sharpens the softmax so the online
// max/rescale path is exercised.
const CASES = [
  qkvCase(1, 4, '1x1'),
  qkvCase(4, 16, '2x2'),
  qkvCase(2, 72, '2x6,10x14'),
  qkvCase(3, 12, '4x8,2x2,6x4,1x1'),
  qkvCase(1, 128, '9x9,2x2', 2),
  qkvCase(16, 72, '10x14'),
  qkvCase(16, 72, '24x24,2x6'),
];

describe('varlenAttention on the GPU vs varlenAttentionRef', () => {
  kernelTests({
    op: 'varlenAttention',
    cases: CASES,
    name: (c) => c.title,
    seed: ({ L, heads, headDim }) => L * 131 + heads * 17 + headDim,
    inputs: ({ L, width, scale }, seed) => randn(L * width, seed, scale),
    run: (g, xv, c) => varlenAttention(g.rt, g.tables, { ...c, qkv: g.upload(xv, [c.L, c.width]) }),
    ref: (xv, { grids, heads, headDim }) => varlenAttentionRef(xv, grids, heads, headDim),
    // Attention class bound is NMSE ≤ 5e-4; with f32 inputs on both sides only f32-vs-f64 accumulation
    // differs, so hold the kernel to 1e-9.
    metric: nmseBelow(1e-9),
  });
});
