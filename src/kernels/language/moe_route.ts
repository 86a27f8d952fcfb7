// moeRoute on the GPU: ids and weights stay on the device for moeExperts (no readback).
import source from '../../../shaders/moe_route.wgsl?raw';
import type { GpuRuntime } from '../../gpu/runtime.ts';
import { type GpuTensor, storageBytes } from '../../gpu/tensor.ts';
import { defineUniforms } from '../../gpu/uniforms.ts';
import { weightAccess } from '../core/matmul.ts';
import { checkShape } from '../core/ref_core_ops.ts';
import type { RouterConfig } from '../types.ts';
import { exactGrid } from './mla_attention.ts';

const Params = defineUniforms('MoeRouteParams', {
  E: 'u32',
  A: 'u32',
  NGROUP: 'u32',
  TOPK_GROUP: 'u32',
  NORM: 'u32',
  SCALING: 'f32',
  K: 'u32',
  NB: 'u32',
  SCALE_OFF: 'u32',
  ROWS_X: 'u32',
});
const MAX_E = 256;
const MAX_G = 64;

export function moeRoute(rt: GpuRuntime, x: GpuTensor, gate: GpuTensor, bias: GpuTensor, cfg: RouterConfig) {
  const D = x.shape[x.shape.length - 1]!;
  const T = x.numel / D;
  const E = bias.numel;
  checkShape(gate.shape.join() === [E, D].join(), 'moeRoute', `gate [${gate.shape}] vs [${E}, ${D}]`);
  checkShape(
    bias.dtype === 'f32',
    'moeRoute',
    'router bias must be f32 on the GPU (rank-1 weights are widened at upload)',
  );
  checkShape(
    E <= MAX_E && cfg.nGroup <= MAX_G && E % cfg.nGroup === 0,
    'moeRoute',
    `${E} experts in ${cfg.nGroup} groups`,
  );
  checkShape(
    cfg.topK <= E && cfg.topkGroup <= cfg.nGroup,
    'moeRoute',
    `top ${cfg.topK} of ${E}, ${cfg.topkGroup} of ${cfg.nGroup} groups`,
  );
  const a = weightAccess(gate);
  const ids = rt.alloc([T, cfg.topK], 'u32');
  const weights = rt.alloc([T, cfg.topK]);
  const g = exactGrid(rt, T);
  rt.dispatch({
    op: 'moe_route',
    source,
    defines: { [a.define]: true },
    overrides: { WG: 64 },
    uniforms: Params,
    params: {
      E,
      A: cfg.topK,
      NGROUP: cfg.nGroup,
      TOPK_GROUP: cfg.topkGroup,
      NORM: cfg.normTopkProb ? 1 : 0,
      SCALING: cfg.routedScalingFactor,
      K: D,
      NB: a.NB,
      SCALE_OFF: a.SCALE_OFF,
      ROWS_X: g.x,
    },
    bindings: [
      { tensor: x, access: 'read' },
      { tensor: gate, access: 'read' },
      { tensor: bias, access: 'read' },
      { tensor: ids, access: 'rw' },
      { tensor: weights, access: 'rw' },
    ],
    workgroups: [g.x, g.y],
    weightBytes: storageBytes(gate.shape, gate.dtype),
  });
  return { ids, weights };
}
