// rope2d on the GPU vs rope2dRef (elementwise class: one complex multiply by the same f32 table on both
// sides), and the cos/sin table cached per grids.
import { describe, expect } from 'vitest';
import { randn } from '../../testing/random.ts';
import { allclose, kernelTests, qkvCase } from '../testing.ts';
import { rope2dRef } from './rope2d.ref.ts';
import { rope2d } from './rope2d.ts';

// heads × head_dim (tiny-a 4×16, tiny-b 4×12, minimal 1×4, real 16×72) × grids (1 patch, primes-ish,
// several images, a 40×40 image whose angles reach 39 rad).
const CASES = [
  qkvCase(1, 4, '1x1'),
  qkvCase(4, 16, '2x2'),
  qkvCase(4, 12, '2x6,10x14'),
  qkvCase(3, 8, '4x8,2x2,6x4'),
  qkvCase(16, 72, '40x40'),
];

describe('rope2d on the GPU vs rope2dRef', () => {
  kernelTests({
    op: 'rope2d',
    cases: CASES,
    name: (c) => c.title,
    seed: ({ L, heads, headDim }) => L * 31 + heads * 7 + headDim,
    inputs: ({ L, width }, seed) => randn(L * width, seed),
    run: (g, xv, c) => {
      const p = { ...c, qkv: g.upload(xv, [c.L, c.width]) };
      // The table is cached per grids: the second call re-uses it.
      return { rope2d: rope2d(g.rt, g.tables, p, 10000), again: rope2d(g.rt, g.tables, p, 10000) };
    },
    ref: (xv, { grids, heads, headDim }) => ({ rope2d: rope2dRef(xv, grids, heads, headDim, 10000) }),
    metric: { rope2d: allclose(1e-6, 1e-5) },
    check: (got, g) => {
      expect(g.tables.size).toBe(1);
      expect(Array.from(got.again)).toEqual(Array.from(got.rope2d));
    },
  });
});
