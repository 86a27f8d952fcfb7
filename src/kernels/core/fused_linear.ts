// The fused linear ops of the Kernels facade (CoreOps.normMatmul, matmulAdd, normMatmulPair, gateUpSilu)
// on the GPU. At one activation row (decode) each is ONE gemv dispatch (per weight part) with the norm in
// its prologue, the add or the SwiGLU product in its epilogue, or two weights side by side (gemv_dual.ts),
// so the separate rmsNorm / add / siluMul dispatches and second GEMV disappear; at M > 1 they are the
// unfused ops in sequence (the GEMM has no such prologue).
import type { GpuRuntime } from '../../gpu/runtime.ts';
import type { GpuTensor } from '../../gpu/tensor.ts';
import type { Tensor } from '../../tensor/types.ts';
import { rowsCols } from '../shape_check.ts';
import type { RmsNormWeight } from '../types.ts';
import { add, siluMul } from './elementwise.ts';
import { gemv } from './gemv.ts';
import { gemvGlu, gemvPair } from './gemv_dual.ts';
import { matmul } from './matmul.ts';
import { rmsNorm } from './norm.ts';

/** rmsNorm(x, nw, eps) · wᵀ. x [M, K], nw [K] f32, w [N, K] any storage form. */
export function normMatmul(rt: GpuRuntime, x: GpuTensor, nw: GpuTensor, eps: number, w: Tensor): GpuTensor {
  if (rowsCols(x)[0] === 1) return gemv(rt, x, w, { norm: { weight: nw, eps } });
  const h = rmsNorm(rt, x, nw, eps);
  const y = matmul(rt, h, w);
  rt.free(h);
  return y;
}

/** x · wᵀ + residual. x [M, K], w [N, K], residual [M, N]. */
export function matmulAdd(rt: GpuRuntime, x: GpuTensor, w: Tensor, residual: GpuTensor): GpuTensor {
  if (rowsCols(x)[0] === 1) return gemv(rt, x, w, { residual });
  const p = matmul(rt, x, w);
  const y = add(rt, p, residual);
  rt.free(p);
  return y;
}

/** [rmsNorm(x)·waᵀ, rmsNorm(x)·wbᵀ]. x [M, K], nw [K] f32, wa [Na, K], wb [Nb, K]. */
export function normMatmulPair(
  rt: GpuRuntime,
  x: GpuTensor,
  nw: GpuTensor,
  eps: number,
  wa: Tensor,
  wb: Tensor,
): [GpuTensor, GpuTensor] {
  if (rowsCols(x)[0] === 1) return gemvPair(rt, x, wa, wb, { weight: nw, eps });
  const h = rmsNorm(rt, x, nw, eps);
  const ys: [GpuTensor, GpuTensor] = [matmul(rt, h, wa), matmul(rt, h, wb)];
  rt.free(h);
  return ys;
}

/** silu(x'·gateᵀ) · (x'·upᵀ), x' = x or rmsNorm(x, norm). x [M, K], gate, up [I, K]. */
export function gateUpSilu(
  rt: GpuRuntime,
  x: GpuTensor,
  gate: Tensor,
  up: Tensor,
  norm?: RmsNormWeight<GpuTensor>,
): GpuTensor {
  if (rowsCols(x)[0] === 1) return gemvGlu(rt, x, gate, up, norm);
  const h = norm ? rmsNorm(rt, x, norm.weight, norm.eps) : x;
  const g = matmul(rt, h, gate);
  const u = matmul(rt, h, up);
  const y = siluMul(rt, g, u);
  rt.free(g, u, ...(norm ? [h] : []));
  return y;
}
