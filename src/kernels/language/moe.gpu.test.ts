// moeRoute and moeExperts on the GPU vs the references. Router ids exact (the random data here keeps
// every decision's margin far above f32 rounding); experts NMSE (matmul class) on dequantised weights.
import { describe, expect, test } from 'vitest';
import type { WeightDType } from '../../tensor/types.ts';
import { encodeWeight, randn } from '../../testing/random.ts';
import { hostWeightToF32 } from '../ref_tensor.ts';
import { expectGuardsIntact, nmse, testRuntime } from '../testing.ts';
import type { RouterConfig } from '../types.ts';
import { moeExpertsRef } from './moe_experts.ref.ts';
import { moeExperts } from './moe_experts.ts';
import { moeRouteRef } from './moe_route.ref.ts';
import { moeRoute } from './moe_route.ts';

// [T, D, E, cfg, gate dtype]
const ROUTES: Array<[number, number, number, RouterConfig, WeightDType]> = [
  [1, 1, 2, { topK: 1, nGroup: 1, topkGroup: 1, normTopkProb: true, routedScalingFactor: 1 }, 'f32'],
  [5, 7, 8, { topK: 3, nGroup: 1, topkGroup: 1, normTopkProb: true, routedScalingFactor: 2.446 }, 'bf16'],
  [13, 33, 16, { topK: 3, nGroup: 4, topkGroup: 2, normTopkProb: true, routedScalingFactor: 2.5 }, 'bf16'],
  [6, 96, 8, { topK: 2, nGroup: 2, topkGroup: 1, normTopkProb: false, routedScalingFactor: 1.75 }, 'f16'],
  [1, 2048, 64, { topK: 6, nGroup: 1, topkGroup: 1, normTopkProb: true, routedScalingFactor: 2.446 }, 'bf16'],
  [
    17,
    2048,
    64,
    { topK: 6, nGroup: 8, topkGroup: 3, normTopkProb: true, routedScalingFactor: 2.446 },
    'bf16',
  ],
];

describe('moeRoute on the GPU vs moeRouteRef', () => {
  for (const [T, D, E, cfg, dtype] of ROUTES) {
    const seed = T * 1009 + D * 7 + E;
    test(`T=${T} D=${D} E=${E} top${cfg.topK} groups ${cfg.topkGroup}/${cfg.nGroup} ${dtype} seed=${seed}`, async () => {
      const rt = await testRuntime();
      const xv = randn(T * D, seed);
      const gate = encodeWeight(randn(E * D, seed + 1, 1 / Math.sqrt(D)), [E, D], dtype);
      const bv = randn(E, seed + 2, 0.2);
      const x = rt.upload(xv, [T, D]);
      const g = rt.uploadWeight(gate);
      const b = rt.upload(bv, [E]);
      const r = moeRoute(rt, x, g, b, cfg);
      const ids = await rt.readU32(r.ids);
      const wts = await rt.read(r.weights);
      const want = moeRouteRef(xv, hostWeightToF32(gate), bv, T, D, cfg);
      expect(Array.from(ids), `seed ${seed}`).toEqual(Array.from(want.ids));
      expect(nmse(wts, want.weights), `seed ${seed}`).toBeLessThan(1e-10);
      await expectGuardsIntact(rt, r.ids, 'moeRoute ids');
      await expectGuardsIntact(rt, r.weights, 'moeRoute weights');
      rt.free(x, g, b, r.ids, r.weights);
    });
  }
});

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

describe('moeExperts on the GPU vs moeExpertsRef', () => {
  for (const [T, A, D, I, E, dtype] of EXPERTS) {
    const seed = T * 31 + A * 7 + D + I + E;
    test(`T=${T} A=${A} D=${D} I=${I} E=${E} ${dtype} seed=${seed}`, async () => {
      const rt = await testRuntime();
      const xv = randn(T * D, seed);
      // distinct experts per token, deterministic from the seed
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
      const wv = randn(T * A, seed + 1);
      const gh = encodeWeight(randn(E * I * D, seed + 2, 1 / Math.sqrt(D)), [E, I, D], dtype);
      const uh = encodeWeight(randn(E * I * D, seed + 3, 1 / Math.sqrt(D)), [E, I, D], dtype);
      const dh = encodeWeight(randn(E * D * I, seed + 4, 1 / Math.sqrt(I)), [E, D, I], dtype);
      const x = rt.upload(xv, [T, D]);
      const ids = rt.upload(idv, [T, A]);
      const w = rt.upload(wv, [T, A]);
      const [g, u, d] = [gh, uh, dh].map((h) => rt.uploadWeight(h));
      const y = moeExperts(rt, x, ids, w, g!, u!, d!);
      const got = await rt.read(y);
      const want = moeExpertsRef(
        xv,
        idv,
        wv,
        hostWeightToF32(gh),
        hostWeightToF32(uh),
        hostWeightToF32(dh),
        T,
        A,
        D,
        I,
      );
      // matmul class (NMSE ≤ 5e-4); same dequantised weights on both sides, so far tighter in practice
      expect(nmse(got, want), `seed ${seed}`).toBeLessThan(1e-6);
      await expectGuardsIntact(rt, y, 'moeExperts');
      rt.free(x, ids, w, g!, u!, d!, y);
    });
  }
});
