// moeExperts on the GPU, driven entirely by the router's device-side ids (no readback):
//   1. moe_group: slots (t, a) grouped by expert → order + tile list (≤ TM slots of one expert per tile)
//   2. moe_grouped_mm ×2: gate and up projections per tile, reading only the selected experts' rows
//   3. moe_grouped_mm (SWIGLU_IN): down projection of silu(g)·u
//   4. moe_combine: Σ_a weight · expert output
// Decode (T = 1) makes A tiles of one slot; prefill shares each weight tile among up to TM tokens.
import combineSource from '../../../shaders/moe_combine.wgsl?raw';
import groupSource from '../../../shaders/moe_group.wgsl?raw';
import mmSource from '../../../shaders/moe_grouped_mm.wgsl?raw';
import type { GpuRuntime } from '../../gpu/runtime.ts';
import type { GpuTensor } from '../../gpu/tensor.ts';
import { defineUniforms } from '../../gpu/uniforms.ts';
import { grid2d, weightAccess } from '../core/matmul.ts';
import { checkShape } from '../core/ref_core_ops.ts';

const GroupParams = defineUniforms('MoeGroupParams', { E: 'u32', S: 'u32', TM: 'u32', MAX_TILES: 'u32' });
const MmParams = defineUniforms('MoeMmParams', {
  K: 'u32',
  NOUT: 'u32',
  A: 'u32',
  NB: 'u32',
  SCALE_OFF: 'u32',
});
const CombineParams = defineUniforms('MoeCombineParams', { T: 'u32', D: 'u32', A: 'u32', ROWS_X: 'u32' });
/** Slots per tile; must equal TM in moe_grouped_mm.wgsl. */
const TM = 16;
const TN = 64;
const MAX_E = 256;

/** Upper bound of Σ_e ceil(count_e / TM) over any routing of S slots to E experts. */
export function maxTiles(slots: number, experts: number): number {
  return Math.floor(slots / TM) + Math.min(experts, slots);
}

function groupedMm(
  rt: GpuRuntime,
  inputs: GpuTensor[],
  w: GpuTensor,
  order: GpuTensor,
  tiles: GpuTensor,
  nTiles: number,
  S: number,
  A: number,
): GpuTensor {
  const [E, NOUT, K] = w.shape as [number, number, number];
  const a = weightAccess(w);
  const out = rt.alloc([S, NOUT]);
  rt.dispatch({
    op: 'moe_grouped_mm',
    source: mmSource,
    defines: { [a.define]: true, SWIGLU_IN: inputs.length === 2 },
    overrides: { WG: TN },
    uniforms: MmParams,
    params: { K, NOUT, A, NB: a.NB, SCALE_OFF: a.SCALE_OFF },
    bindings: [
      ...inputs.map((t) => ({ tensor: t, access: 'read' as const })),
      { tensor: w, access: 'read' },
      { tensor: order, access: 'read' },
      { tensor: tiles, access: 'read' },
      { tensor: out, access: 'rw' },
    ],
    workgroups: [Math.ceil(NOUT / TN), nTiles],
    // at most min(E, S) distinct experts are read
    weightBytes: Math.round((w.byteSize * Math.min(E, S)) / E),
  });
  return out;
}

export function moeExperts(
  rt: GpuRuntime,
  x: GpuTensor,
  ids: GpuTensor,
  weights: GpuTensor,
  gate: GpuTensor,
  up: GpuTensor,
  down: GpuTensor,
): GpuTensor {
  const D = x.shape[x.shape.length - 1]!;
  const T = x.numel / D;
  const A = ids.shape[ids.shape.length - 1]!;
  const [E, I] = gate.shape as [number, number, number];
  checkShape(
    ids.dtype === 'u32' && ids.numel === T * A && weights.numel === T * A,
    'moeExperts',
    `ids [${ids.shape}] / weights [${weights.shape}] for ${T} tokens`,
  );
  checkShape(
    gate.shape.join() === [E, I, D].join() && up.shape.join() === gate.shape.join(),
    'moeExperts',
    `gate/up [${gate.shape}] vs [E, I, ${D}]`,
  );
  checkShape(
    down.shape.join() === [E, D, I].join(),
    'moeExperts',
    `down [${down.shape}] vs [${E}, ${D}, ${I}]`,
  );
  checkShape(E <= MAX_E, 'moeExperts', `${E} experts exceed ${MAX_E}`);
  const S = T * A;
  const nTiles = maxTiles(S, E);
  const order = rt.alloc([S], 'u32');
  const tiles = rt.alloc([nTiles, 3], 'u32');
  rt.dispatch({
    op: 'moe_group',
    source: groupSource,
    overrides: { WG: 256 },
    uniforms: GroupParams,
    params: { E, S, TM, MAX_TILES: nTiles },
    bindings: [
      { tensor: ids, access: 'read' },
      { tensor: order, access: 'rw' },
      { tensor: tiles, access: 'rw' },
    ],
    workgroups: [1],
  });
  const g = groupedMm(rt, [x], gate, order, tiles, nTiles, S, A); // [S, I]
  const u = groupedMm(rt, [x], up, order, tiles, nTiles, S, A); // [S, I]
  const o = groupedMm(rt, [g, u], down, order, tiles, nTiles, S, A); // [S, D]
  const y = rt.alloc([T, D]);
  const gc = grid2d(rt, Math.max(1, Math.ceil((T * D) / 256)));
  rt.dispatch({
    op: 'moe_combine',
    source: combineSource,
    overrides: { WG: 256 },
    uniforms: CombineParams,
    params: { T, D, A, ROWS_X: gc.x },
    bindings: [
      { tensor: o, access: 'read' },
      { tensor: weights, access: 'read' },
      { tensor: y, access: 'rw' },
    ],
    workgroups: [gc.x, gc.y],
  });
  rt.free(order, tiles, g, u, o);
  return y;
}
