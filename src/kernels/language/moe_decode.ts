// moeDecode on the GPU: the whole MoE block of one token (T = 1) in two dispatches, no grouping pass:
//   1. moe_decode_gate_up: gate and up GEMVs of the A routed experts (ids read on the GPU, as ggml
//      mul_mat_id) and of the shared experts as extra slots, silu(g)·u in the epilogue → act [A·I + IS]
//   2. moe_decode_down: down GEMVs of all of them, × router weights, summed in a fixed order, + residual
// Variants: weight form (W_F32 … W_Q4), SUBGROUPS (rt.tuning.subgroups and the adapter's feature; else one
// workgroup-memory pass), VEC4 (16-byte weight loads where every bound weight buffer is a whole number of
// quads), ELEMWISE (dense rows whose length is not a multiple of a chunk: gathered element by element).
// Parts (src/gpu/parted_tensor.ts): routed stacks by expert ranges, shared weights by rows. Each dispatch
// binds one routed part and one shared part ("a part pair"); a slot whose expert is outside the bound
// range, or a shared row outside it, contributes nothing there. Unsplit weights: exactly two dispatches.
import downSource from '../../../shaders/moe_decode_down.wgsl?raw';
import gateUpSource from '../../../shaders/moe_decode_gate_up.wgsl?raw';
import { partsOf, type TensorPart } from '../../gpu/parted_tensor.ts';
import type { GpuRuntime } from '../../gpu/runtime.ts';
import type { GpuTensor } from '../../gpu/tensor.ts';
import { defineUniforms } from '../../gpu/uniforms.ts';
import { quantLayout } from '../../tensor/quant_format.ts';
import type { Tensor, WeightDType } from '../../tensor/types.ts';
import { ro, rw, WEIGHT_DEFINE } from '../dispatch.ts';
import { checkShape } from '../shape_check.ts';

const GateUpParams = defineUniforms('MoeDecodeGateUpParams', {
  D: 'u32',
  NB: 'u32',
  I: 'u32',
  IS: 'u32',
  A: 'u32',
  R_SOFF: 'u32',
  S_SOFF: 'u32',
  E0: 'u32',
  EN: 'u32',
  S0: 'u32',
  SN: 'u32',
});
const DownParams = defineUniforms('MoeDecodeDownParams', {
  D: 'u32',
  I: 'u32',
  IS: 'u32',
  A: 'u32',
  R_NB: 'u32',
  S_NB: 'u32',
  R_SOFF: 'u32',
  S_SOFF: 'u32',
  E0: 'u32',
  EN: 'u32',
  S0: 'u32',
  SN: 'u32',
  ACCUM: 'u32',
});
/** Rows per workgroup; must equal ROWS in both shaders. */
const ROWS = 4;
const WG = 64;
/** Weights per vec4<u32> chunk (common/moe_decode_rows.wgsl CW). */
const CHUNK: Record<WeightDType, number> = { f32: 4, f16: 8, bf16: 8, q8: 16, q4: 32 };

/** The stacked routed experts and the shared experts (one SwiGLU of width IS) of one MoE layer. */
export interface MoeDecodeWeights {
  gate: Tensor; // [E, I, D]
  up: Tensor; // [E, I, D]
  down: Tensor; // [E, D, I]
  sharedGate: Tensor; // [IS, D]
  sharedUp: Tensor; // [IS, D]
  sharedDown: Tensor; // [D, IS]
}

export interface MoeDecodeVariant {
  subgroups: boolean;
}

export function moeDecodeShape(x: Tensor, ids: Tensor, weights: Tensor, w: MoeDecodeWeights, res: Tensor) {
  const [T, D] = x.shape as [number, number];
  const A = ids.shape[1] ?? 0;
  const [E, I] = w.gate.shape as [number, number, number];
  const IS = w.sharedGate.shape[0]!;
  const same = (t: Tensor, s: number[]) => t.shape.join() === s.join();
  checkShape(T === 1 && x.shape.length === 2, 'moeDecode', `x [${x.shape}]: one token [1, D]`);
  checkShape(
    ids.dtype === 'u32' && same(ids, [1, A]) && same(weights, [1, A]) && A >= 1,
    'moeDecode',
    `ids [${ids.shape}] / weights [${weights.shape}] vs [1, A]`,
  );
  checkShape(
    same(w.gate, [E, I, D]) && same(w.up, [E, I, D]) && same(w.down, [E, D, I]),
    'moeDecode',
    `experts gate/up [${w.gate.shape}] [${w.up.shape}], down [${w.down.shape}] vs [E, I, ${D}] / [E, ${D}, I]`,
  );
  checkShape(
    same(w.sharedGate, [IS, D]) && same(w.sharedUp, [IS, D]) && same(w.sharedDown, [D, IS]),
    'moeDecode',
    `shared gate/up [${w.sharedGate.shape}] [${w.sharedUp.shape}], down [${w.sharedDown.shape}] vs [IS, ${D}]`,
  );
  checkShape(same(res, [1, D]), 'moeDecode', `residual [${res.shape}] vs [1, ${D}]`);
  checkShape(
    [w.up, w.down].every((t) => t.dtype === w.gate.dtype) &&
      [w.sharedUp, w.sharedDown].every((t) => t.dtype === w.sharedGate.dtype),
    'moeDecode',
    'gate, up and down of the routed (and of the shared) experts must share one storage form',
  );
  return { D, A, E, I, IS };
}

export function chooseMoeDecodeVariant(rt: GpuRuntime): MoeDecodeVariant {
  return { subgroups: rt.tuning.subgroups && rt.features.subgroups };
}

/** One dispatch's weights: a routed part and a shared part of one storage form (null: none bound). */
interface PartPair<P> {
  routed: P | null;
  shared: P | null;
}

/** Part i of each tensor, checked to cover the same dim-0 range (gate and up are cut alike). */
function alignedParts(ts: Tensor[], op: string): TensorPart[][] {
  const ps = ts.map(partsOf);
  const first = ps[0]!;
  checkShape(
    ps.every((p) => p.length === first.length && p.every((q, i) => q.start === first[i]!.start)),
    op,
    'gate and up are held in differently cut parts',
  );
  return first.map((_, i) => ps.map((p) => p[i]!));
}

/** Zip routed and shared parts into dispatches; different storage forms take separate dispatches. */
function pairUp<P>(routed: P[], shared: P[], sameForm: boolean): PartPair<P>[] {
  if (!sameForm)
    return [
      ...routed.map((r) => ({ routed: r, shared: null })),
      ...shared.map((s) => ({ routed: null, shared: s })),
    ];
  const n = Math.max(routed.length, shared.length);
  return Array.from({ length: n }, (_, i) => ({ routed: routed[i] ?? null, shared: shared[i] ?? null }));
}

function defines(dtype: WeightDType, bound: GpuTensor[], rowLengths: number[], v: MoeDecodeVariant) {
  const dense = dtype === 'f32' || dtype === 'f16' || dtype === 'bf16';
  return {
    [WEIGHT_DEFINE[dtype]]: true,
    SUBGROUPS: v.subgroups,
    ELEMWISE: dense && rowLengths.some((k) => k % CHUNK[dtype] !== 0),
    VEC4: bound.every((t) => t.byteSize >= 16 && t.byteSize % 16 === 0),
  };
}

/** kvq1 blocks per row and scale word offset of a part (0 for dense forms). */
function quantFields(t: GpuTensor): { nb: number; soff: number } {
  if (t.dtype !== 'q8' && t.dtype !== 'q4') return { nb: 0, soff: 0 };
  const L = quantLayout(t.dtype, t.shape);
  return { nb: L.blocksPerRow, soff: L.scaleOffset / 4 };
}

const redSize = (outs: number, v: MoeDecodeVariant) => (v.subgroups ? (outs * WG) / 4 : outs * WG);

function gateUp(
  rt: GpuRuntime,
  x: GpuTensor,
  ids: GpuTensor,
  w: MoeDecodeWeights,
  dims: { D: number; A: number; I: number; IS: number },
  v: MoeDecodeVariant,
): GpuTensor {
  const { D, A, I, IS } = dims;
  const act = rt.alloc([A * I + IS]);
  const routed = alignedParts([w.gate, w.up], 'moeDecode');
  const shared = IS > 0 ? alignedParts([w.sharedGate, w.sharedUp], 'moeDecode') : [];
  const slots = A + (IS > 0 ? Math.ceil(IS / I) : 0);
  for (const pair of pairUp(routed, shared, w.gate.dtype === w.sharedGate.dtype)) {
    const r = pair.routed ?? pair.shared!;
    const s = pair.shared ?? r;
    const bound = [r[0]!.tensor, r[1]!.tensor, s[0]!.tensor, s[1]!.tensor];
    const dtype = (pair.routed ? w.gate.dtype : w.sharedGate.dtype) as WeightDType;
    const rq = quantFields(r[0]!.tensor);
    const sq = quantFields(s[0]!.tensor);
    const perExpert = pair.routed ? (2 * r[0]!.tensor.byteSize) / r[0]!.count : 0;
    rt.dispatch({
      op: 'moe_decode_gate_up',
      source: gateUpSource,
      defines: defines(dtype, bound, [D], v),
      overrides: { WG, RED: redSize(2 * ROWS, v) },
      uniforms: GateUpParams,
      params: {
        D,
        NB: rq.nb || sq.nb,
        I,
        IS,
        A,
        R_SOFF: rq.soff,
        S_SOFF: sq.soff,
        E0: pair.routed ? r[0]!.start : 0,
        EN: pair.routed ? r[0]!.count : 0,
        S0: pair.shared ? s[0]!.start : 0,
        SN: pair.shared ? s[0]!.count : 0,
      },
      bindings: [ro(x), ro(ids), ...bound.map(ro), rw(act)],
      workgroups: [Math.ceil(I / ROWS), slots],
      // at most min(A, experts in the part) routed experts are read, the shared part whole
      weightBytes:
        Math.round(perExpert * Math.min(A, pair.routed ? r[0]!.count : 0)) +
        (pair.shared ? 2 * s[0]!.tensor.byteSize : 0),
    });
  }
  return act;
}

function down(
  rt: GpuRuntime,
  act: GpuTensor,
  ids: GpuTensor,
  weights: GpuTensor,
  res: GpuTensor,
  w: MoeDecodeWeights,
  dims: { D: number; A: number; I: number; IS: number },
  v: MoeDecodeVariant,
): GpuTensor {
  const { D, A, I, IS } = dims;
  const out = rt.alloc([1, D]);
  const routed = partsOf(w.down);
  const shared = IS > 0 ? partsOf(w.sharedDown) : [];
  const pairs = pairUp([...routed], [...shared], w.down.dtype === w.sharedDown.dtype);
  pairs.forEach((pair, i) => {
    const r = pair.routed ?? pair.shared!;
    const s = pair.shared ?? r;
    const dtype = (pair.routed ? w.down.dtype : w.sharedDown.dtype) as WeightDType;
    const rq = quantFields(r.tensor);
    const sq = quantFields(s.tensor);
    const rowLengths = [pair.routed ? I : 0, pair.shared ? IS : 0];
    rt.dispatch({
      op: 'moe_decode_down',
      source: downSource,
      defines: defines(dtype, [r.tensor, s.tensor], rowLengths, v),
      overrides: { WG, RED: redSize(ROWS, v) },
      uniforms: DownParams,
      params: {
        D,
        I,
        IS,
        A,
        R_NB: rq.nb,
        S_NB: sq.nb,
        R_SOFF: rq.soff,
        S_SOFF: sq.soff,
        E0: pair.routed ? r.start : 0,
        EN: pair.routed ? r.count : 0,
        S0: pair.shared ? s.start : 0,
        SN: pair.shared ? s.count : 0,
        ACCUM: i > 0 ? 1 : 0,
      },
      bindings: [ro(act), ro(ids), ro(weights), ro(r.tensor), ro(s.tensor), ro(res), rw(out)],
      workgroups: [Math.ceil(D / ROWS)],
      weightBytes:
        Math.round((r.tensor.byteSize / r.count) * Math.min(A, pair.routed ? r.count : 0)) +
        (pair.shared ? s.tensor.byteSize : 0),
    });
  });
  return out;
}

/**
 * res + MoE(x) for one token: x, res [1, D]; ids u32 and weights [1, A] from moeRoute (device-side).
 * Returns [1, D].
 */
export function moeDecode(
  rt: GpuRuntime,
  x: GpuTensor,
  ids: GpuTensor,
  weights: GpuTensor,
  w: MoeDecodeWeights,
  res: GpuTensor,
  variant: MoeDecodeVariant = chooseMoeDecodeVariant(rt),
): GpuTensor {
  const dims = moeDecodeShape(x, ids, weights, w, res);
  const act = gateUp(rt, x, ids, w, dims, variant); // [A·I + IS]
  const y = down(rt, act, ids, weights, res, w, dims, variant); // [1, D]
  rt.free(act);
  return y;
}
