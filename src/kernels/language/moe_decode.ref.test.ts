// moeDecodeRef (the oracle of the fused decode MoE) equals the composition the model runs without it:
// moeExpertsRef + the shared SwiGLU by matmulRef/siluMulRef + the residual (addRef); and the test data's
// sparse expert stacks hold exactly the per-expert encodings (every storage form).
import { describe, expect, test } from 'vitest';
import type { WeightDType } from '../../tensor/types.ts';
import { encodeWeight, randn } from '../../testing/random.ts';
import { addRef, siluMulRef } from '../core/elementwise.ref.ts';
import { matmulRef } from '../core/matmul.ref.ts';
import { hostWeightToF32 } from '../ref_tensor.ts';
import { nmse } from '../testing.ts';
import { moeDecodeRef } from './moe_decode.ref.ts';
import { expertsF32, sparseStack } from './moe_decode.test_util.ts';
import { moeExpertsRef } from './moe_experts.ref.ts';

describe('moeDecodeRef', () => {
  test.each([
    [1, 3, 2, 2, 2],
    [3, 17, 5, 6, 10],
    [6, 40, 24, 9, 48],
  ])('A=%i D=%i I=%i E=%i IS=%i equals moeExperts + shared SwiGLU + residual', (A, D, I, E, IS) => {
    const seed = A * 100 + D + I + E + IS;
    const x = randn(D, seed);
    const ids = Uint32Array.from({ length: A }, (_, a) => (a * 5 + 1) % E);
    const wts = randn(A, seed + 1);
    const res = randn(D, seed + 2);
    const [g, u, d] = [randn(E * I * D, seed + 3), randn(E * I * D, seed + 4), randn(E * D * I, seed + 5)];
    const [sg, su, sd] = [randn(IS * D, seed + 6), randn(IS * D, seed + 7), randn(D * IS, seed + 8)];
    const got = moeDecodeRef(
      x,
      ids,
      wts,
      { gate: g, up: u, down: d, sharedGate: sg, sharedUp: su, sharedDown: sd },
      res,
      D,
      I,
      IS,
    );
    const routed = moeExpertsRef(x, ids, wts, g, u, d, 1, A, D, I);
    const h = siluMulRef(matmulRef(x, sg, 1, D, IS), matmulRef(x, su, 1, D, IS));
    const want = addRef(res, addRef(routed, matmulRef(h, sd, 1, IS, D)));
    expect(nmse(got, want)).toBeLessThan(1e-12);
  });

  test.each(['f32', 'f16', 'bf16', 'q8', 'q4'] as WeightDType[])(
    'sparse %s stacks hold the experts as encoded alone',
    (dtype) => {
      const [E, rows, K] = [7, 5, 40];
      const filled = [6, 0, 3];
      const values = (e: number) => randn(rows * K, 1000 + e);
      const stack = sparseStack(E, rows, K, dtype, filled, values);
      const got = expertsF32(stack, filled);
      const want = new Float32Array(filled.length * rows * K);
      filled.forEach((e, a) =>
        want.set(hostWeightToF32(encodeWeight(values(e), [rows, K], dtype)), a * rows * K),
      );
      expect(Array.from(got)).toEqual(Array.from(want));
      expect(Array.from(expertsF32(stack, [1])).every((v) => v === 0)).toBe(true);
    },
  );
});
