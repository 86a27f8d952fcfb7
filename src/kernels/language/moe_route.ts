// moeRoute on the GPU: ids and weights stay on the device for moeExperts (no readback). The logit pass
// and the top-k rounds run on the whole workgroup, with subgroup reductions where the adapter has them
// and rt.tuning.subgroups allows (forceable off, so both variants are tested on one adapter).
import source from '../../../shaders/moe_route.wgsl?raw';
import type { GpuRuntime } from '../../gpu/runtime.ts';
import { type GpuTensor, storageBytes } from '../../gpu/tensor.ts';
import { defineUniforms } from '../../gpu/uniforms.ts';
import { exactGrid, ro, rw, WEIGHT_UNIFORMS, weightAccess } from '../dispatch.ts';
import { checkShape } from '../shape_check.ts';
import type { RmsNormWeight, RouterConfig } from '../types.ts';
import { moeRouteShape } from './language_shapes.ts';

const Params = defineUniforms('MoeRouteParams', {
  E: 'u32',
  A: 'u32',
  NGROUP: 'u32',
  TOPK_GROUP: 'u32',
  NORM: 'u32',
  SCALING: 'f32',
  ...WEIGHT_UNIFORMS,
  ROWS_X: 'u32',
  EPS: 'f32',
});
const MAX_E = 256;
const MAX_G = 64;

/** With `norm` the router reads rmsNorm(x) (the FFN norm fused: no norm dispatch). */
export function moeRoute(
  rt: GpuRuntime,
  x: GpuTensor,
  gate: GpuTensor,
  bias: GpuTensor,
  cfg: RouterConfig,
  norm?: RmsNormWeight<GpuTensor>,
) {
  const { T, D, E } = moeRouteShape(x, gate, bias, cfg);
  checkShape(
    !norm || (norm.weight.shape.join() === `${D}` && norm.weight.dtype === 'f32'),
    'moeRoute',
    `f32 norm [${D}]`,
  );
  checkShape(
    bias.dtype === 'f32',
    'moeRoute',
    'router bias must be f32 on the GPU (rank-1 weights are widened at upload)',
  );
  checkShape(
    E <= MAX_E && cfg.nGroup <= MAX_G,
    'moeRoute',
    `${E} experts in ${cfg.nGroup} groups exceed the kernel's ${MAX_E} / ${MAX_G}`,
  );
  const a = weightAccess(gate);
  const ids = rt.alloc([T, cfg.topK], 'u32');
  const weights = rt.alloc([T, cfg.topK]);
  const g = exactGrid(rt, T);
  rt.dispatch({
    op: 'moe_route',
    source,
    defines: { [a.define]: true, X_NORM: !!norm, SUBGROUPS: rt.tuning.subgroups && rt.features.subgroups },
    overrides: { WG: 64 },
    uniforms: Params,
    params: {
      E,
      A: cfg.topK,
      NGROUP: cfg.nGroup,
      TOPK_GROUP: cfg.topkGroup,
      NORM: cfg.normTopkProb ? 1 : 0,
      SCALING: cfg.routedScalingFactor,
      ...a.fields,
      ROWS_X: g.x,
      EPS: norm?.eps ?? 0,
    },
    bindings: [ro(x), ro(gate), ro(bias), rw(ids), rw(weights), ...(norm ? [ro(norm.weight)] : [])],
    workgroups: [g.x, g.y],
    weightBytes: storageBytes(gate.shape, gate.dtype) + (norm ? 4 * D : 0),
  });
  return { ids, weights };
}
