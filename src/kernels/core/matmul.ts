// matmul: y[M,N] = x[M,K] · w[N,K]ᵀ (+ bias). M = 1 takes the bandwidth-bound matvec kernel (decode),
// M > 1 the register-tiled kernel (prefill, vision). Weights in any storage form (f32, packed f16/bf16,
// kvq1 q8/q4) are unpacked in the shader, so no shader-f16 is needed.

import matmulSource from '../../../shaders/matmul.wgsl?raw';
import matmulDirectSource from '../../../shaders/matmul_direct.wgsl?raw';
import matvecSource from '../../../shaders/matvec.wgsl?raw';
import type { GpuRuntime } from '../../gpu/runtime.ts';
import { type GpuTensor, storageBytes } from '../../gpu/tensor.ts';
import { defineUniforms } from '../../gpu/uniforms.ts';
import { quantLayout } from '../../tensor/quant_format.ts';
import type { WeightDType } from '../../tensor/types.ts';
import { checkShape } from './ref_core_ops.ts';

const Params = defineUniforms('MatmulParams', {
  M: 'u32',
  K: 'u32',
  N: 'u32',
  NB: 'u32',
  SCALE_OFF: 'u32',
  ROWS_X: 'u32',
});

export const WEIGHT_DEFINE: Record<WeightDType, string> = {
  f32: 'W_F32',
  f16: 'W_F16',
  bf16: 'W_BF16',
  q8: 'W_Q8',
  q4: 'W_Q4',
};

/** Uniform fields the weight-access helpers (shaders/common/weights.wgsl) need for a weight [rows, K]. */
export function weightAccess(w: GpuTensor): { K: number; NB: number; SCALE_OFF: number; define: string } {
  const dtype = w.dtype as WeightDType;
  const K = w.shape[w.shape.length - 1]!;
  if (dtype === 'q8' || dtype === 'q4') {
    const L = quantLayout(dtype, w.shape);
    return { K, NB: L.blocksPerRow, SCALE_OFF: L.scaleOffset / 4, define: WEIGHT_DEFINE[dtype] };
  }
  return { K, NB: 0, SCALE_OFF: 0, define: WEIGHT_DEFINE[dtype] };
}

/** Bytes one row of a weight [rows, K] occupies in its storage form (quantised: blocks plus scales). */
export function weightRowBytes(w: GpuTensor): number {
  const K = w.shape[w.shape.length - 1]!;
  switch (w.dtype) {
    case 'q8':
    case 'q4': {
      const nb = Math.ceil(K / 32);
      return nb * (w.dtype === 'q8' ? 32 : 16) + nb * 2;
    }
    case 'f16':
    case 'bf16':
      return K * 2;
    default:
      return K * 4;
  }
}

/** Spreads `count` workgroups over x and y so neither exceeds the per-dimension limit. */
export function grid2d(rt: GpuRuntime, count: number): { x: number; y: number } {
  const max = rt.device.limits.maxComputeWorkgroupsPerDimension;
  const x = Math.min(count, max);
  return { x, y: Math.ceil(count / x) };
}

export function matmul(rt: GpuRuntime, x: GpuTensor, w: GpuTensor, bias?: GpuTensor): GpuTensor {
  // 1. shapes and dtypes
  const K = x.shape[x.shape.length - 1]!;
  const M = x.numel / K;
  const N = w.numel / K;
  checkShape(x.dtype === 'f32', 'matmul', `activations must be f32, got ${x.dtype}`);
  checkShape(
    w.shape[w.shape.length - 1] === K && Number.isInteger(N),
    'matmul',
    `x [${x.shape}] · w [${w.shape}]ᵀ`,
  );
  checkShape(!bias || bias.numel === N, 'matmul', `bias [${bias?.shape}] for N=${N}`);
  // 2. variant
  const access = weightAccess(w);
  const matvec = M === 1;
  const packed16 = (w.dtype === 'bf16' || w.dtype === 'f16') && K % 2 === 0;
  const defines = {
    [access.define]: true,
    HAS_BIAS: !!bias,
    // matvec reads whole words; f32 weights and odd-K 16-bit rows take the per-element path.
    PACKED16: matvec && packed16,
    // With shader-f16 (feature-detected) f16 weights are read as native vec2<f16>; else unpacked from u32.
    SHADER_F16: matvec && packed16 && w.dtype === 'f16' && rt.features.shaderF16,
    ELEMENTWISE: matvec && (w.dtype === 'f32' || ((w.dtype === 'bf16' || w.dtype === 'f16') && !packed16)),
  };
  // 3. uniforms and 4. dispatch size
  const rows = grid2d(rt, N);
  const params = { M, K, N, NB: access.NB, SCALE_OFF: access.SCALE_OFF, ROWS_X: rows.x };
  const direct = rt.tuning.matmul === 'direct';
  const tile = direct ? 32 : 64;
  const workgroups: [number, number] = matvec ? [rows.x, rows.y] : [Math.ceil(N / tile), Math.ceil(M / tile)];
  // 5. bindings
  const y = rt.alloc([...x.shape.slice(0, -1), N]);
  const bindings = [
    { tensor: x, access: 'read' as const },
    { tensor: w, access: 'read' as const },
    { tensor: y, access: 'rw' as const },
    ...(bias ? [{ tensor: bias, access: 'read' as const }] : []),
  ];
  rt.dispatch({
    op: matvec ? 'matvec' : direct ? 'matmul_direct' : 'matmul',
    source: matvec ? matvecSource : direct ? matmulDirectSource : matmulSource,
    defines,
    uniforms: Params,
    params,
    bindings,
    workgroups,
    weightBytes: storageBytes(w.shape, w.dtype),
  });
  return y;
}
