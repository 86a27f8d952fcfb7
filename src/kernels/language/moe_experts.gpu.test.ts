// moeExperts on the GPU vs moeExpertsRef: NMSE (matmul class) on the dequantised weights, expert ids as
// the router would give them (distinct per token), decode and prefill, one and many tiles per expert.
import { describe } from 'vitest';
import type { GpuTensor } from '../../gpu/tensor.ts';
import type { WeightDType } from '../../tensor/types.ts';
import { encodeWeight, randn } from '../../testing/random.ts';
import { hostWeightToF32 } from '../ref_tensor.ts';
import { kernelTests, nmseBelow } from '../testing.ts';
import { moeExpertsRef } from './moe_experts.ref.ts';
import { moeExperts } from './moe_experts.ts';

// [T, A, D, I, E, dtype]
const EXPERTS: Array<[number, number, number, number, number, WeightDType]> = [
  [1, 1, 1, 1, 1, 'f32'],
  [3, 2, 5, 7, 4, 'f32'],
  [40, 3, 33, 17, 8, 'bf16'], // > TM slots per expert: several tiles of one expert
  [7, 2, 96, 24, 8, 'q8'],
  [5, 2, 64, 40, 6, 'q4'],
  [1, 2, 2048, 1408, 3, 'bf16'], // real D and I, decode (A and E small: SwiftShader time)
  [17, 6, 128, 1408, 64, 'bf16'], // 64 experts, real width, prefill
];

/** Distinct experts per token, deterministic from the seed. */
function expertIds(T: number, A: number, E: number, seed: number): Uint32Array {
  const idv = new Uint32Array(T * A);
  for (let t = 0; t < T; t++)
    for (let a = 0; a < A; a++)
      idv[t * A + a] =
        (t * 5 + a * 3 + seed) % E === 0 && a > 0 ? (a * 7 + t) % E : (t * 5 + a * 3 + seed) % E;
  for (let t = 0; t < T; t++) {
    const used = new Set<number>();
    for (let a = 0; a < A; a++) {
      let e = idv[t * A + a]!;
      while (used.has(e)) e = (e + 1) % E;
      used.add(e);
      idv[t * A + a] = e;
    }
  }
  return idv;
}

describe('moeExperts on the GPU vs moeExpertsRef', () => {
  kernelTests({
    op: 'moeExperts',
    cases: EXPERTS,
    name: ([T, A, D, I, E, dtype]) => `T=${T} A=${A} D=${D} I=${I} E=${E} ${dtype}`,
    seed: ([T, A, D, I, E]) => T * 31 + A * 7 + D + I + E,
    inputs: ([T, A, D, I, E, dtype], seed) => {
      const w = (s: number, shape: number[], fanIn: number) =>
        encodeWeight(randn(shape[0]! * shape[1]! * shape[2]!, s, 1 / Math.sqrt(fanIn)), shape, dtype);
      return {
        x: randn(T * D, seed),
        ids: expertIds(T, A, E, seed),
        weights: randn(T * A, seed + 1),
        gate: w(seed + 2, [E, I, D], D),
        up: w(seed + 3, [E, I, D], D),
        down: w(seed + 4, [E, D, I], I),
      };
    },
    run: (g, { x, ids, weights, gate, up, down }, [T, A, D]) => {
      const [tg, tu, td] = [gate, up, down].map((h) => g.uploadWeight(h)) as [
        GpuTensor,
        GpuTensor,
        GpuTensor,
      ];
      return moeExperts(
        g.rt,
        g.upload(x, [T, D]),
        g.upload(ids, [T, A]),
        g.upload(weights, [T, A]),
        tg,
        tu,
        td,
      );
    },
    ref: ({ x, ids, weights, gate, up, down }, [T, A, D, I]) => {
      const [wg, wu, wd] = [gate, up, down].map(hostWeightToF32) as [
        Float32Array,
        Float32Array,
        Float32Array,
      ];
      return moeExpertsRef(x, ids, weights, wg, wu, wd, T, A, D, I);
    },
    // matmul class (NMSE ≤ 5e-4); same dequantised weights on both sides, so far tighter in practice
    metric: nmseBelow(1e-6),
  });
});
