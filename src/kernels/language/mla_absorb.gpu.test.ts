// mlaAbsorb (no q rope; the roped path runs in mla_q_rope.gpu.test.ts) vs mlaAbsorbRef, both variants
// forced on this adapter: 'elem' and 'vec' (which falls back to elem on q8 and on R % 8 ≠ 0), one and
// several tokens, bf16 / f16 / q8 kv_b, and the real Kimi-VL dims (16 heads, rank 512, nope 128, rope 64).
import { describe } from 'vitest';
import type { WeightDType } from '../../tensor/types.ts';
import { encodeWeight, randn } from '../../testing/random.ts';
import { hostWeightToF32 } from '../ref_tensor.ts';
import { kernelTests, nmseBelow } from '../testing.ts';
import type { MlaDims } from '../types.ts';
import { mlaAbsorbRef } from './mla_absorb.ref.ts';
import { type MlaAbsorbVariant, mlaAbsorb } from './mla_absorb.ts';

interface Case {
  T: number;
  d: MlaDims;
  kvB: WeightDType;
  variant: MlaAbsorbVariant;
}
const small = (heads: number, kvRank: number): MlaDims => ({
  heads,
  qkNope: 8,
  qkRope: 6,
  v: 4,
  kvRank,
  scale: 1,
});
const REAL: MlaDims = { heads: 16, qkNope: 128, qkRope: 64, v: 128, kvRank: 512, scale: 1 };
const SHAPES: Omit<Case, 'variant'>[] = [
  { T: 1, d: small(3, 24), kvB: 'bf16' },
  { T: 5, d: small(3, 24), kvB: 'f16' },
  { T: 2, d: small(2, 20), kvB: 'bf16' }, // R % 8 ≠ 0: vec falls back
  { T: 3, d: small(2, 64), kvB: 'q8' }, // no 8 weights a word: vec falls back
  { T: 1, d: REAL, kvB: 'bf16' },
  { T: 3, d: REAL, kvB: 'f16' },
];
const CASES: Case[] = (['elem', 'vec'] as const).flatMap((variant) => SHAPES.map((s) => ({ ...s, variant })));

describe('mlaAbsorb on the GPU vs mlaAbsorbRef', () => {
  kernelTests({
    op: 'mlaAbsorb',
    cases: CASES,
    name: (c) => `${c.variant} T=${c.T} H=${c.d.heads} R=${c.d.kvRank} N=${c.d.qkNope} ${c.kvB}`,
    seed: (c) => c.T * 131 + c.d.heads * 17 + c.d.kvRank,
    inputs: (c, seed) => {
      const { heads: H, qkNope: N, qkRope: P, v: V, kvRank: R } = c.d;
      return {
        q: randn(c.T * H * (N + P), seed),
        kvB: encodeWeight(randn(H * (N + V) * R, seed + 1, 0.1), [H * (N + V), R], c.kvB),
      };
    },
    run: (g, { q, kvB }, c) => {
      const tq = g.upload(q, [c.T, c.d.heads * (c.d.qkNope + c.d.qkRope)]);
      return mlaAbsorb(g.rt, tq, g.uploadWeight(kvB), 0, c.d, undefined, c.variant);
    },
    ref: ({ q, kvB }, c) => mlaAbsorbRef(q, hostWeightToF32(kvB), c.T, c.d),
    // same dequantised weights, f32 vs f64 accumulation only
    metric: nmseBelow(1e-10),
  });
});
