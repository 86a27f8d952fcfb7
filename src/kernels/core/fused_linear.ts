// The fused linear ops of the Kernels facade (CoreOps.normMatmul, CoreOps.matmulAdd) on the GPU. At one
// activation row (decode) each is ONE gemv dispatch with the norm in its prologue or the add in its
// epilogue, so the separate rmsNorm / add dispatch (and its activation round trip) disappears; at M > 1
// they are the unfused ops in sequence (the GEMM has no such prologue).
import type { GpuRuntime } from '../../gpu/runtime.ts';
import type { GpuTensor } from '../../gpu/tensor.ts';
import type { Tensor } from '../../tensor/types.ts';
import { rowsCols } from '../shape_check.ts';
import { add } from './elementwise.ts';
import { gemv } from './gemv.ts';
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
