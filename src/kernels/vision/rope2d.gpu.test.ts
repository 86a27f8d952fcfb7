import { describe, expect, test } from 'vitest';
import { randn } from '../../testing/random.ts';
import { expectGuardsIntact, firstMismatch, testRuntime } from '../testing.ts';
import type { Grid } from '../types.ts';
import { GpuTableCache } from './gpu_table_cache.ts';
import { totalPatches } from './grids.ts';
import { rope2dRef } from './rope2d.ref.ts';
import { rope2d } from './rope2d.ts';

// heads × head_dim (tiny-a 4×16, tiny-b 4×12, minimal 1×4, real 16×72) × grids (1 patch, primes-ish,
// several images, a 40×40 image whose angles reach 39 rad).
const CASES: Array<{ heads: number; headDim: number; grids: Grid[] }> = [
  { heads: 1, headDim: 4, grids: [{ h: 1, w: 1 }] },
  { heads: 4, headDim: 16, grids: [{ h: 2, w: 2 }] },
  {
    heads: 4,
    headDim: 12,
    grids: [
      { h: 2, w: 6 },
      { h: 10, w: 14 },
    ],
  },
  {
    heads: 3,
    headDim: 8,
    grids: [
      { h: 4, w: 8 },
      { h: 2, w: 2 },
      { h: 6, w: 4 },
    ],
  },
  { heads: 16, headDim: 72, grids: [{ h: 40, w: 40 }] },
];

describe('rope2d on the GPU vs rope2dRef', () => {
  for (const { heads, headDim, grids } of CASES) {
    const L = totalPatches(grids);
    const seed = L * 31 + heads * 7 + headDim;
    const what = `H=${heads} d=${headDim} grids ${grids.map((g) => `${g.h}×${g.w}`).join(',')} seed=${seed}`;
    test(what, async () => {
      const rt = await testRuntime();
      const tables = new GpuTableCache(rt);
      const width = 3 * heads * headDim;
      const xv = randn(L * width, seed);
      const x = rt.upload(xv, [L, width]);
      const y = rope2d(rt, tables, x, grids, heads, headDim, 10000);
      const got = await rt.read(y);
      const want = rope2dRef(xv, grids, heads, headDim, 10000);
      // Elementwise class: one complex multiply by the same f32 table on both sides.
      const bad = firstMismatch(got, want, 1e-6, 1e-5);
      expect(bad, `${what}: index ${bad} got ${got[bad]} want ${want[bad]}`).toBe(-1);
      await expectGuardsIntact(rt, y, what);
      // The table is cached per grids: a second call re-uses it.
      const again = rope2d(rt, tables, x, grids, heads, headDim, 10000);
      expect(tables.size).toBe(1);
      expect(Array.from(await rt.read(again))).toEqual(Array.from(got));
      tables.clear();
      rt.free(x, y, again);
    });
  }
});
