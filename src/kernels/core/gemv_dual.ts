// Two GEMVs over the same activation row in one dispatch (shaders/gemv.wgsl DUAL), each with the
// optional rms-norm prologue computed once for both:
//   - gemvPair: [x'·waᵀ, x'·wbᵀ] for two weights of any row counts (MLA's q and kv_a projections);
//   - gemvGlu: silu(x'·gateᵀ) · (x'·upᵀ), the SwiGLU's gate and up rows side by side, the product in
//     the epilogue (no up GEMV and no siluMul dispatch of their own).
// Weights in parts (src/gpu/parted_tensor.ts): gemvPair zips the two part lists (one dispatch per pair,
// then one gemv per leftover part); gemvGlu needs gate and up split alike (they share a shape, so the
// upload splits them alike) and takes one dispatch per part pair. Where the dual kernel does not apply
// (storage forms differ, rows not 16-byte aligned, splits differ) both fall back to separate gemvs.

import { partsOf } from '../../gpu/parted_tensor.ts';
import type { GpuRuntime } from '../../gpu/runtime.ts';
import type { GpuTensor } from '../../gpu/tensor.ts';
import type { Tensor } from '../../tensor/types.ts';
import { checkShape, numel } from '../shape_check.ts';
import { siluMul } from './elementwise.ts';
import { type GemvFusion, gemv, gemvDispatch, gemvFormat } from './gemv.ts';

type Norm = GemvFusion['norm'];

/** The rows of a 2-D weight [N, K] (stacked [S, n, K] weights are not dual operands). */
function rowsOf(w: Tensor, K: number, op: string): number {
  checkShape(w.shape.length === 2 && w.shape[1] === K, op, `weight [N, ${K}], got [${w.shape}]`);
  return w.shape[0]!;
}

/** Whether one dual dispatch can read both weights: one storage form, 16-byte units. */
function dualFits(x: GpuTensor, a: Tensor, b: Tensor): boolean {
  const K = x.shape[x.shape.length - 1]!;
  return a.dtype === b.dtype && gemvFormat(a.dtype, K) !== 'elementwise';
}

function checkInput(x: GpuTensor, norm: Norm, op: string): number {
  const K = x.shape[x.shape.length - 1]!;
  checkShape(numel(x.shape) === K && x.dtype === 'f32', op, `one f32 activation row, got [${x.shape}]`);
  checkShape(!norm || (numel(norm.weight.shape) === K && norm.weight.dtype === 'f32'), op, `f32 norm [${K}]`);
  return K;
}

/** [x'·waᵀ [1, Na], x'·wbᵀ [1, Nb]], x' = x or rmsNorm(x): one dispatch per pair of parts. */
export function gemvPair(
  rt: GpuRuntime,
  x: GpuTensor,
  wa: Tensor,
  wb: Tensor,
  norm?: Norm,
): [GpuTensor, GpuTensor] {
  const K = checkInput(x, norm, 'gemvPair');
  const [Na, Nb] = [rowsOf(wa, K, 'gemvPair'), rowsOf(wb, K, 'gemvPair')];
  const f: GemvFusion = norm ? { norm } : {};
  if (!dualFits(x, wa, wb)) return [gemv(rt, x, wa, f), gemv(rt, x, wb, f)];
  const ya = rt.alloc([...x.shape.slice(0, -1), Na]);
  const yb = rt.alloc([...x.shape.slice(0, -1), Nb]);
  const [pa, pb] = [partsOf(wa), partsOf(wb)];
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const a = pa[i] && { w: pa[i]!.tensor, y: ya, N: pa[i]!.count, off: pa[i]!.start };
    const b = pb[i] && { w: pb[i]!.tensor, y: yb, N: pb[i]!.count, off: pb[i]!.start };
    if (a && b) gemvDispatch(rt, x, a, f, { mode: 'pair', job: b });
    else gemvDispatch(rt, x, (a ?? b)!, f);
  }
  return [ya, yb];
}

/** Same part splits: part i of both covers the same rows. */
function sameSplit(a: Tensor, b: Tensor): boolean {
  const [pa, pb] = [partsOf(a), partsOf(b)];
  return pa.length === pb.length && pa.every((p, i) => p.start === pb[i]!.start && p.count === pb[i]!.count);
}

/** silu(x'·gateᵀ) · (x'·upᵀ) [1, I], x' = x or rmsNorm(x): one dispatch per part pair. */
export function gemvGlu(rt: GpuRuntime, x: GpuTensor, gate: Tensor, up: Tensor, norm?: Norm): GpuTensor {
  const K = checkInput(x, norm, 'gemvGlu');
  const I = rowsOf(gate, K, 'gemvGlu');
  checkShape(rowsOf(up, K, 'gemvGlu') === I, 'gemvGlu', `gate [${gate.shape}] and up [${up.shape}] differ`);
  if (!dualFits(x, gate, up) || !sameSplit(gate, up)) {
    const f: GemvFusion = norm ? { norm } : {};
    const [g, u] = [gemv(rt, x, gate, f), gemv(rt, x, up, f)];
    const y = siluMul(rt, g, u);
    rt.free(g, u);
    return y;
  }
  const y = rt.alloc([...x.shape.slice(0, -1), I]);
  const pu = partsOf(up);
  partsOf(gate).forEach((p, i) => {
    const job = (w: GpuTensor) => ({ w, y, N: p.count, off: p.start });
    gemvDispatch(rt, x, job(p.tensor), norm ? { norm } : {}, { mode: 'glu', job: job(pu[i]!.tensor) });
  });
  return y;
}
