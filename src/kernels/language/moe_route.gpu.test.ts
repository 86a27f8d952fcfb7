// moeRoute on the GPU vs moeRouteRef. Router ids exact (the random data here keeps every decision's
// margin far above f32 rounding); weights NMSE ≤ 1e-10. With the FFN norm fused (the decode path) against
// the reference on rmsNormRef(x): the same bounds. Every case with subgroup reductions and without (the
// variant forced through rt.tuning, and checked to be the pipeline that ran).
import { describe, expect } from 'vitest';
import { testRuntime } from '../../gpu/testing.ts';
import type { WeightDType } from '../../tensor/types.ts';
import { encodeWeight, randn } from '../../testing/random.ts';
import { rmsNormRef } from '../core/norm.ref.ts';
import { hostWeightToF32 } from '../ref_tensor.ts';
import { exact, kernelTests, nmseBelow } from '../testing.ts';
import type { RouterConfig } from '../types.ts';
import { moeRouteRef } from './moe_route.ref.ts';
import { moeRoute } from './moe_route.ts';

// [T, D, E, cfg, gate dtype]
const ROUTES: Array<[number, number, number, RouterConfig, WeightDType]> = [
  [1, 1, 2, { topK: 1, nGroup: 1, topkGroup: 1, normTopkProb: true, routedScalingFactor: 1 }, 'f32'],
  [5, 7, 8, { topK: 3, nGroup: 1, topkGroup: 1, normTopkProb: true, routedScalingFactor: 2.446 }, 'bf16'],
  [13, 33, 16, { topK: 3, nGroup: 4, topkGroup: 2, normTopkProb: true, routedScalingFactor: 2.5 }, 'bf16'],
  [6, 96, 8, { topK: 2, nGroup: 2, topkGroup: 1, normTopkProb: false, routedScalingFactor: 1.75 }, 'f16'],
  // E not a multiple of the 8-expert logit block, E over the 64 lanes (several experts per lane)
  [2, 65, 13, { topK: 5, nGroup: 1, topkGroup: 1, normTopkProb: false, routedScalingFactor: 1 }, 'f32'],
  [3, 50, 200, { topK: 8, nGroup: 1, topkGroup: 1, normTopkProb: true, routedScalingFactor: 1.5 }, 'bf16'],
  [1, 2048, 64, { topK: 6, nGroup: 1, topkGroup: 1, normTopkProb: true, routedScalingFactor: 2.446 }, 'bf16'],
  [
    17,
    2048,
    64,
    { topK: 6, nGroup: 8, topkGroup: 3, normTopkProb: true, routedScalingFactor: 2.446 },
    'bf16',
  ],
];

type Route = [...(typeof ROUTES)[number], boolean];
const rt = await testRuntime();
const { features } = rt;
const VARIANTS: Route[] = [true, false].flatMap((sg) => ROUTES.map((r): Route => [...r, sg]));
const variant = (sg: boolean) => (sg ? 'subgroups' : 'no subgroups');
const skip = ([, , , , , sg]: Route) => sg && !features.subgroups && 'the adapter has no subgroups';

/** Forces the variant for this case's dispatch (restored in `ran`). */
function force(g: { rt: typeof rt }, sg: boolean): void {
  g.rt.tuning.subgroups = sg;
}

/** The forced variant is the pipeline that ran; the tuning is restored for the next case. */
function ran(g: { rt: typeof rt }, sg: boolean): void {
  expect(g.rt.pipelines.keys().some((k) => k.includes('moe_route') && k.includes(`SUBGROUPS=${sg}`))).toBe(
    true,
  );
  g.rt.tuning.subgroups = features.subgroups;
}

describe('moeRoute on the GPU vs moeRouteRef', () => {
  kernelTests({
    op: 'moeRoute',
    cases: VARIANTS,
    skip,
    name: ([T, D, E, cfg, dtype, sg]) =>
      `T=${T} D=${D} E=${E} top${cfg.topK} groups ${cfg.topkGroup}/${cfg.nGroup} ${dtype}, ${variant(sg)}`,
    seed: ([T, D, E]) => T * 1009 + D * 7 + E,
    inputs: ([T, D, E, , dtype], seed) => ({
      x: randn(T * D, seed),
      gate: encodeWeight(randn(E * D, seed + 1, 1 / Math.sqrt(D)), [E, D], dtype),
      bias: randn(E, seed + 2, 0.2),
    }),
    run: (g, { x, gate, bias }, [T, D, E, cfg, , sg]) => {
      force(g, sg);
      return moeRoute(g.rt, g.upload(x, [T, D]), g.uploadWeight(gate), g.upload(bias, [E]), cfg);
    },
    ref: ({ x, gate, bias }, [T, D, , cfg]) => moeRouteRef(x, hostWeightToF32(gate), bias, T, D, cfg),
    metric: { ids: exact, weights: nmseBelow(1e-10) },
    check: (_got, g, _in, [, , , , , sg]) => ran(g, sg),
  });
});

describe('moeRoute with the rms-norm prologue vs moeRouteRef of rmsNormRef(x)', () => {
  kernelTests({
    op: 'moeRoute',
    cases: VARIANTS.filter(([, D]) => D > 1),
    skip,
    name: ([T, D, E, cfg, dtype, sg]) =>
      `norm T=${T} D=${D} E=${E} top${cfg.topK} groups ${cfg.topkGroup}/${cfg.nGroup} ${dtype}, ${variant(sg)}`,
    seed: ([T, D, E]) => T * 1013 + D * 5 + E,
    inputs: ([T, D, E, , dtype], seed) => ({
      x: randn(T * D, seed, 3),
      gate: encodeWeight(randn(E * D, seed + 1, 1 / Math.sqrt(D)), [E, D], dtype),
      bias: randn(E, seed + 2, 0.2),
      nw: randn(D, seed + 3),
    }),
    run: (g, { x, gate, bias, nw }, [T, D, E, cfg, , sg]) => {
      force(g, sg);
      return moeRoute(g.rt, g.upload(x, [T, D]), g.uploadWeight(gate), g.upload(bias, [E]), cfg, {
        weight: g.upload(nw, [D]),
        eps: 1e-6,
      });
    },
    ref: ({ x, gate, bias, nw }, [T, D, , cfg]) =>
      moeRouteRef(rmsNormRef(x, nw, T, D, 1e-6), hostWeightToF32(gate), bias, T, D, cfg),
    metric: { ids: exact, weights: nmseBelow(1e-10) },
    check: (_got, g, _in, [, , , , , sg]) => ran(g, sg),
  });
});
