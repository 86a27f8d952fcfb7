// mlaAttention on the GPU vs mlaAttentionRef: decode (T = 1) and prefill (T > 1, causal), pos0 > 0,
// context longer than one 64-key round, real Kimi-VL sizes, every kv_b storage form. Guard words.
import { describe } from 'vitest';
import type { WeightDType } from '../../tensor/types.ts';
import { encodeWeight, randn } from '../../testing/random.ts';
import { hostWeightToF32 } from '../ref_tensor.ts';
import { kernelTests, nmseBelow } from '../testing.ts';
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

const dims = ([, , , heads, nope, rope, v, rank]: (typeof CASES)[number]): MlaDims => ({
  heads,
  qkNope: nope,
  qkRope: rope,
  v,
  kvRank: rank,
  scale: (nope + rope) ** -0.5,
});

describe('mlaAttention on the GPU vs mlaAttentionRef', () => {
  kernelTests({
    op: 'mlaAttention',
    cases: CASES,
    name: ([T, pos0, ctx, heads, nope, rope, v, rank, dtype]) =>
      `T=${T} pos0=${pos0} ctx=${ctx} H=${heads} nope=${nope} rope=${rope} v=${v} R=${rank} ${dtype}`,
    seed: ([T, pos0, , heads, , , , rank]) => T * 100_003 + pos0 * 101 + heads * 7 + rank,
    inputs: ([T, , ctx, heads, nope, rope, v, rank, dtype], seed) => ({
      q: randn(T * heads * (nope + rope), seed),
      kvB: encodeWeight(randn(heads * (nope + v) * rank, seed + 1, 0.1), [heads * (nope + v), rank], dtype),
      cache: randn(ctx * (rank + rope), seed + 2),
    }),
    run: (g, { q, kvB, cache }, c) => {
      const [T, pos0, ctx, heads, nope, rope, , rank] = c;
      const tq = g.upload(q, [T, heads * (nope + rope)]);
      return mlaAttention(g.rt, tq, g.uploadWeight(kvB), g.upload(cache, [ctx, rank + rope]), pos0, dims(c));
    },
    ref: ({ q, kvB, cache }, c) => mlaAttentionRef(q, hostWeightToF32(kvB), cache, c[0], c[1], dims(c)),
    // attention class: NMSE ≤ 5e-4; same dequantised weights on both sides, so far tighter in practice
    metric: nmseBelow(1e-6),
  });
});
