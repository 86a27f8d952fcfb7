// mlaAttention on the GPU vs mlaAttentionRef: decode (T = 1) and prefill (T > 1, causal), pos0 > 0,
// context longer than one 64-key round, real Kimi-VL sizes, every kv_b storage form. Guard words.
import { describe, expect, test } from 'vitest';
import type { WeightDType } from '../../tensor/types.ts';
import { encodeWeight, randn } from '../../testing/random.ts';
import { hostWeightToF32 } from '../ref_tensor.ts';
import { expectGuardsIntact, nmse, testRuntime } from '../testing.ts';
import type { MlaDims } from '../types.ts';
import { mlaAttentionRef } from './mla_attention.ref.ts';
import { mlaAttention } from './mla_attention.ts';

// [T, pos0, ctx, heads, nope, rope, v, rank, dtype]
const CASES: Array<[number, number, number, number, number, number, number, number, WeightDType]> = [
  [1, 0, 1, 1, 1, 2, 1, 1, 'f32'],
  [3, 2, 7, 2, 5, 4, 3, 7, 'f32'],
  [5, 0, 5, 3, 16, 8, 16, 32, 'bf16'],
  [7, 61, 70, 4, 8, 16, 12, 24, 'f16'], // keys span two online-softmax rounds
  [1, 130, 131, 6, 8, 16, 12, 24, 'q8'],
  [2, 0, 2, 2, 32, 16, 32, 33, 'q4'],
  [1, 40, 41, 16, 128, 64, 128, 512, 'bf16'], // real sizes, decode
  [17, 0, 17, 16, 128, 64, 128, 512, 'bf16'], // real sizes, prefill
  [1, 20, 21, 16, 128, 64, 128, 512, 'q4'],
  [1, 600, 601, 3, 8, 16, 12, 24, 'bf16'], // decode split into 3 key ranges + combine
  [1, 1300, 1310, 2, 16, 64, 16, 512, 'f32'], // 6 ranges, real latent width
];

describe('mlaAttention on the GPU vs mlaAttentionRef', () => {
  for (const [T, pos0, ctx, heads, nope, rope, v, rank, dtype] of CASES) {
    const seed = T * 100_003 + pos0 * 101 + heads * 7 + rank;
    test(`T=${T} pos0=${pos0} ctx=${ctx} H=${heads} nope=${nope} rope=${rope} v=${v} R=${rank} ${dtype} seed=${seed}`, async () => {
      const rt = await testRuntime();
      const d: MlaDims = { heads, qkNope: nope, qkRope: rope, v, kvRank: rank, scale: (nope + rope) ** -0.5 };
      const qv = randn(T * heads * (nope + rope), seed);
      const host = encodeWeight(
        randn(heads * (nope + v) * rank, seed + 1, 0.1),
        [heads * (nope + v), rank],
        dtype,
      );
      const cv = randn(ctx * (rank + rope), seed + 2);
      const q = rt.upload(qv, [T, heads * (nope + rope)]);
      const w = rt.uploadWeight(host);
      const cache = rt.upload(cv, [ctx, rank + rope]);
      const y = mlaAttention(rt, q, w, cache, pos0, d);
      const got = await rt.read(y);
      const want = mlaAttentionRef(qv, hostWeightToF32(host), cv, T, pos0, d);
      // attention class: NMSE ≤ 5e-4; same dequantised weights on both sides, so far tighter in practice
      const err = nmse(got, want);
      expect(err, `seed ${seed}`).toBeLessThan(1e-6);
      await expectGuardsIntact(rt, y, 'mlaAttention');
      rt.free(q, w, cache, y);
    });
  }
});
