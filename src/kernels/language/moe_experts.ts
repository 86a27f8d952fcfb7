// moeExperts on the GPU, driven entirely by the router's device-side ids (no readback):
//   1. moe_experts_group: slots (t, a) grouped by expert → order + tile list (≤ TM slots of one expert per tile)
//   2. moe_experts_mm ×2: gate and up projections per tile, reading only the selected experts' rows
//   3. moe_experts_mm (SWIGLU_IN): down projection of silu(g)·u
//   4. moe_experts_combine: Σ_a weight · expert output (+ the addend, e.g. the shared experts' output)
// Expert stacks in parts (expert ranges, src/gpu/parted_tensor.ts) take one grouped-mm dispatch per part.
// Decode (T = 1) reads the ids straight from the router's output instead (moe_decode.ts: two dispatches,
// no grouping, no combine); only rows that are not 16-byte aligned take the grouped path, with tiles of
// one slot. Prefill (T > 1) by rt.tuning.moePrefill ('auto', the CPU-adapter default: tiled from 4 slots an expert): 'tiled' runs the three projections as the tiled GEMM over each expert's gathered rows (moe_experts_tiled.ts, tiles of
// 64 or 128 slots); 'rows' the thread-per-row kernel above with ≤ 16 slots per tile (CPU adapters).
import combineSource from '../../../shaders/moe_experts_combine.wgsl?raw';
import groupSource from '../../../shaders/moe_experts_group.wgsl?raw';
import mmSource from '../../../shaders/moe_experts_mm.wgsl?raw';
import { partsOf } from '../../gpu/parted_tensor.ts';
import type { GpuRuntime } from '../../gpu/runtime.ts';
import type { GpuTensor } from '../../gpu/tensor.ts';
import { defineUniforms } from '../../gpu/uniforms.ts';
import type { Tensor } from '../../tensor/types.ts';
import { tileDims } from '../core/matmul_tiling.ts';
import { rmsNorm } from '../core/norm.ts';
import { grid2d, ro, rw, WEIGHT_UNIFORMS, weightAccess } from '../dispatch.ts';
import { checkShape } from '../shape_check.ts';
import type { RmsNormWeight } from '../types.ts';
import { moeExpertsShape } from './language_shapes.ts';
import { moeDecode, moeDecodeFits } from './moe_decode.ts';
import { groupedGemm, moeGemmTiling, moePrefillTiled } from './moe_experts_tiled.ts';

const GroupParams = defineUniforms('MoeGroupParams', { E: 'u32', S: 'u32', TM: 'u32', MAX_TILES: 'u32' });
const MmParams = defineUniforms('MoeMmParams', {
  NOUT: 'u32',
  A: 'u32',
  ...WEIGHT_UNIFORMS,
  E0: 'u32',
  EN: 'u32',
});
const CombineParams = defineUniforms('MoeCombineParams', { T: 'u32', D: 'u32', A: 'u32', ROWS_X: 'u32' });
/** Slots per tile of the rows kernel; must equal TM in moe_experts_mm.wgsl. */
const TM = 16;
const TN = 64;
const MAX_E = 256;

/** Upper bound of Σ_e ceil(count_e / tm) over any routing of S slots to E experts. */
export function maxTiles(slots: number, experts: number, tm = TM): number {
  return Math.floor(slots / tm) + Math.min(experts, slots);
}

function groupedMm(
  rt: GpuRuntime,
  inputs: GpuTensor[],
  w: Tensor,
  order: GpuTensor,
  tiles: GpuTensor,
  nTiles: number,
  S: number,
  A: number,
): GpuTensor {
  const NOUT = w.shape[1]!;
  const out = rt.alloc([S, NOUT]);
  for (const p of partsOf(w)) {
    const a = weightAccess(p.tensor);
    rt.dispatch({
      op: 'moe_experts_mm',
      source: mmSource,
      defines: { [a.define]: true, SWIGLU_IN: inputs.length === 2 },
      overrides: { WG: TN },
      uniforms: MmParams,
      params: { NOUT, A, ...a.fields, E0: p.start, EN: p.count },
      bindings: [...inputs.map(ro), ro(p.tensor), ro(order), ro(tiles), rw(out)],
      workgroups: [Math.ceil(NOUT / TN), nTiles],
      // at most min(E, S) distinct experts are read
      weightBytes: Math.round((p.tensor.byteSize * Math.min(p.count, S)) / p.count),
    });
  }
  return out;
}

export function moeExperts(
  rt: GpuRuntime,
  x: GpuTensor,
  ids: GpuTensor,
  weights: GpuTensor,
  gate: Tensor,
  up: Tensor,
  down: Tensor,
  addend?: GpuTensor,
  norm?: RmsNormWeight<GpuTensor>,
): GpuTensor {
  const { T, D, A, E } = moeExpertsShape(x, ids, weights, gate, up, down, addend);
  checkShape(E <= MAX_E, 'moeExperts', `${E} experts exceed ${MAX_E}`);
  checkShape(!norm || norm.weight.shape.join() === `${D}`, 'moeExperts', `norm weight [${D}]`);
  if (T === 1 && moeDecodeFits(gate, up, down))
    return moeDecode(rt, x, ids, weights, { gate, up, down }, addend, norm);
  if (norm) {
    const h = rmsNorm(rt, x, norm.weight, norm.eps);
    const y = moeExperts(rt, h, ids, weights, gate, up, down, addend);
    rt.free(h);
    return y;
  }
  const S = T * A;
  const tiled =
    T > 1 && moePrefillTiled(rt.tuning.moePrefill, S, E, gate.dtype) ? moeGemmTiling(rt, S, E) : null;
  const tm = tiled ? tileDims(tiled.tile).bm : TM; // slots per tile: the GEMM's rows, or the rows kernel's TM
  const nTiles = maxTiles(S, E, tm);
  const order = rt.alloc([S], 'u32');
  const tiles = rt.alloc([nTiles, 3], 'u32');
  rt.dispatch({
    op: 'moe_experts_group',
    source: groupSource,
    overrides: { WG: 256 },
    uniforms: GroupParams,
    params: { E, S, TM: tm, MAX_TILES: nTiles },
    bindings: [ro(ids), rw(order), rw(tiles)],
    workgroups: [1],
  });
  const plan = { order, tiles, nTiles, S, A };
  const mm = (inputs: GpuTensor[], w: Tensor) =>
    tiled
      ? groupedGemm(rt, tiled, MmParams, inputs, w, plan)
      : groupedMm(rt, inputs, w, order, tiles, nTiles, S, A);
  const g = mm([x], gate); // [S, I]
  const u = mm([x], up); // [S, I]
  const o = mm([g, u], down); // [S, D]
  const y = rt.alloc([T, D]);
  const gc = grid2d(rt, Math.max(1, Math.ceil((T * D) / 256)));
  rt.dispatch({
    op: 'moe_experts_combine',
    source: combineSource,
    defines: { ADDEND: addend !== undefined },
    overrides: { WG: 256 },
    uniforms: CombineParams,
    params: { T, D, A, ROWS_X: gc.x },
    bindings: [ro(o), ro(weights), rw(y), ...(addend ? [ro(addend)] : [])],
    workgroups: [gc.x, gc.y],
  });
  rt.free(order, tiles, g, u, o);
  return y;
}
