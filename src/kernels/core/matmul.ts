// matmul: y[M,N] = x[M,K] · w[N,K]ᵀ (+ bias). M = 1 takes the bandwidth-bound GEMV (gemv.ts, decode),
// M > 1 by rt.tuning.matmul: 'tiled' the big-tile GEMM (shaders/matmul_tiled.wgsl, variant from
// matmul_tiling.ts: 32×64 / 64×64 / 128×64 / 128×128 tiles; staged in f16 where the adapter has shader-f16,
// else f32; packed f16 forced by tuning), 'direct' the barrier-free kernel, 'auto' (CPU adapters' default)
// one of those two per shape and weight form (matmul_choice.ts), 'classic' the 64×64 kernel the tiled
// GEMM replaced (bench baseline). Weights in any storage form (f32, packed f16/bf16, kvq1 q8/q4) are
// unpacked in the shader, so no shader-f16 is needed. A weight held in parts (output rows,
// src/gpu/parted_tensor.ts) takes one dispatch per part, each writing its columns of y.
import matmulSource from '../../../shaders/matmul.wgsl?raw';
import matmulDirectSource from '../../../shaders/matmul_direct.wgsl?raw';
import matmulTiledSource from '../../../shaders/matmul_tiled.wgsl?raw';
import { partsOf } from '../../gpu/parted_tensor.ts';
import type { GpuRuntime } from '../../gpu/runtime.ts';
import { type GpuTensor, storageBytes } from '../../gpu/tensor.ts';
import { defineUniforms } from '../../gpu/uniforms.ts';
import type { Tensor, WeightDType } from '../../tensor/types.ts';
import { grid2d, ro, rw, WEIGHT_UNIFORMS, weightAccess } from '../dispatch.ts';
import { checkShape } from '../shape_check.ts';
import { matmulShape } from './core_shapes.ts';
import { gemv } from './gemv.ts';
import { matmulKind } from './matmul_choice.ts';
import { chooseGemmTiling, gemmDefines, gemmOverrides, tileDims } from './matmul_tiling.ts';

const Params = defineUniforms('MatmulParams', {
  M: 'u32',
  N: 'u32',
  ...WEIGHT_UNIFORMS,
  ROWS_X: 'u32',
  Y_STRIDE: 'u32',
  Y_OFF: 'u32',
});

export function matmul(rt: GpuRuntime, x: GpuTensor, w: Tensor, bias?: GpuTensor): GpuTensor {
  // 1. shapes and dtypes
  const { M, K, N } = matmulShape(x, w, bias);
  checkShape(x.dtype === 'f32', 'matmul', `activations must be f32, got ${x.dtype}`);
  if (M === 1) return gemv(rt, x, w, bias ? { bias } : {}); // decode: the GEMV (gemv.ts)
  const y = rt.alloc([...x.shape.slice(0, -1), N]);
  const rowsPerSlice = N / (w.shape[0] ?? 1); // output rows per dim-0 slice of w (1 for [N, K])
  for (const p of partsOf(w))
    matmulPart(
      rt,
      x,
      p.tensor,
      y,
      { M, K, N: p.count * rowsPerSlice, off: p.start * rowsPerSlice, stride: N },
      bias,
    );
  return y;
}

/** y[:, off .. off + rows(w)) = x · wᵀ (+ bias[off ..]) for one weight part w [rows, K]. */
function matmulPart(
  rt: GpuRuntime,
  x: GpuTensor,
  w: GpuTensor,
  y: GpuTensor,
  s: { M: number; K: number; N: number; off: number; stride: number },
  bias?: GpuTensor,
): void {
  const { M, N, off, stride } = s;
  // 2. variant (M = 1 went to the GEMV above)
  const access = weightAccess(w);
  // 3. uniforms and 4. dispatch size
  const rows = grid2d(rt, N);
  const params = { M, N, ...access.fields, ROWS_X: rows.x, Y_STRIDE: stride, Y_OFF: off };
  // 5. bindings
  const bindings = [ro(x), ro(w), rw(y), ...(bias ? [ro(bias)] : [])];
  const weightBytes = storageBytes(w.shape, w.dtype);
  const common = { uniforms: Params, params, bindings, weightBytes };
  const kind = matmulKind(rt.tuning.matmul, M, w.dtype as WeightDType);
  if (kind === 'tiled') {
    const t = chooseGemmTiling(rt, M, N);
    rt.dispatch({
      op: 'matmul_tiled',
      source: matmulTiledSource,
      defines: { ...gemmDefines(t, w), HAS_BIAS: !!bias },
      overrides: gemmOverrides(t),
      workgroups: [Math.ceil(N / tileDims(t.tile).bn), Math.ceil(M / tileDims(t.tile).bm)],
      ...common,
    });
    return;
  }
  const direct = kind === 'direct';
  const tile = direct ? 32 : 64;
  rt.dispatch({
    op: direct ? 'matmul_direct' : 'matmul',
    source: direct ? matmulDirectSource : matmulSource,
    defines: { [access.define]: true, HAS_BIAS: !!bias },
    workgroups: [Math.ceil(N / tile), Math.ceil(M / tile)],
    ...common,
  });
}
