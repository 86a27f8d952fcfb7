// The two MLA references are one function associated two ways (spec §9.3 vs §9.4): the non-absorbed
// mlaPrefillRef must equal the absorbed mlaAttentionRef on the same inputs, causal, with and without a
// cached prefix. Both accumulate in f64, so only rounding of the f32 outputs separates them.
import { describe, expect, it } from 'vitest';
import { randn } from '../../testing/random.ts';
import { nmse } from '../testing.ts';
import type { MlaDims } from '../types.ts';
import { mlaAttentionRef } from './mla_attention.ref.ts';
import { mlaPrefillRef } from './mla_prefill.ref.ts';

// [T, pos0, heads, nope, rope, v, rank]
const CASES = [
  [1, 0, 1, 1, 2, 1, 1],
  [3, 0, 2, 5, 4, 3, 7],
  [4, 6, 3, 16, 8, 12, 24],
  [9, 2, 2, 8, 6, 4, 5],
] as const;

describe('mlaPrefillRef (non-absorbed) vs mlaAttentionRef (absorbed)', () => {
  for (const [T, pos0, heads, nope, rope, v, rank] of CASES) {
    it(`T=${T} pos0=${pos0} H=${heads} nope=${nope} rope=${rope} v=${v} R=${rank}`, () => {
      const d: MlaDims = { heads, qkNope: nope, qkRope: rope, v, kvRank: rank, scale: (nope + rope) ** -0.5 };
      const seed = T * 31 + pos0;
      const q = randn(T * heads * (nope + rope), seed);
      const kvB = randn(heads * (nope + v) * rank, seed + 1, 0.3);
      const cache = randn((pos0 + T) * (rank + rope), seed + 2);
      const a = mlaPrefillRef(q, kvB, cache, T, pos0, d);
      const b = mlaAttentionRef(q, kvB, cache, T, pos0, d);
      expect(a.length).toBe(T * heads * v);
      // f32 outputs of the same f64 values: ≤ 1 ulp apart, NMSE ~1e-15
      expect(nmse(a, b)).toBeLessThan(1e-12);
      // causal: perturbing the last key moves only the last query's output
      const later = cache.slice();
      for (let i = (pos0 + T - 1) * (rank + rope); i < later.length; i++) later[i]! += 1;
      const c = mlaPrefillRef(q, kvB, later, T, pos0, d);
      const rowW = heads * v;
      expect(c.subarray(0, (T - 1) * rowW)).toEqual(a.subarray(0, (T - 1) * rowW));
      expect(nmse(c.subarray((T - 1) * rowW), a.subarray((T - 1) * rowW))).toBeGreaterThan(1e-6);
    });
  }
});
