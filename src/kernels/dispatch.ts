// What every GPU wrapper needs to lay out a dispatch: grids within the per-dimension limit, bindings in
// shader order, and the uniform fields of a weight read through shaders/common/weights.wgsl.
import type { Binding, GpuRuntime } from '../gpu/runtime.ts';
import type { GpuTensor } from '../gpu/tensor.ts';
import { quantLayout } from '../tensor/quant_format.ts';
import type { WeightDType } from '../tensor/types.ts';

/** Spreads `count` workgroups over x and y so neither exceeds the per-dimension limit. */
export function grid2d(rt: GpuRuntime, count: number): { x: number; y: number } {
  const max = rt.device.limits.maxComputeWorkgroupsPerDimension;
  const x = Math.min(count, max);
  return { x, y: Math.ceil(count / x) };
}

/** A 2-D grid with exactly `count` workgroups (x·y = count), for kernels that index by workgroup id. */
export function exactGrid(rt: GpuRuntime, count: number): { x: number; y: number } {
  const max = rt.device.limits.maxComputeWorkgroupsPerDimension;
  if (count <= max) return { x: count, y: 1 };
  for (let x = max; x > 0; x--) if (count % x === 0 && count / x <= max) return { x, y: count / x };
  return { x: count, y: 1 }; // the runtime reports the limit
}

/** A read-only binding. */
export const ro = (tensor: GpuTensor): Binding => ({ tensor, access: 'read' });
/** A read-write binding (outputs, caches written in place). */
export const rw = (tensor: GpuTensor): Binding => ({ tensor, access: 'rw' });

export const WEIGHT_DEFINE: Record<WeightDType, string> = {
  f32: 'W_F32',
  f16: 'W_F16',
  bf16: 'W_BF16',
  q8: 'W_Q8',
  q4: 'W_Q4',
};

/** The uniform fields shaders/common/weights.wgsl reads (u.K, u.NB, u.SCALE_OFF): spread into a layout. */
export const WEIGHT_UNIFORMS = { K: 'u32', NB: 'u32', SCALE_OFF: 'u32' } as const;

export interface WeightAccess {
  /** The shader define that selects the weight's storage form (W_F32 … W_Q4). */
  define: string;
  /** Values of WEIGHT_UNIFORMS for a weight [rows, K]. */
  fields: { K: number; NB: number; SCALE_OFF: number };
}

export function weightAccess(w: GpuTensor): WeightAccess {
  const dtype = w.dtype as WeightDType;
  const K = w.shape[w.shape.length - 1]!;
  const define = WEIGHT_DEFINE[dtype];
  if (dtype === 'q8' || dtype === 'q4') {
    const L = quantLayout(dtype, w.shape);
    return { define, fields: { K, NB: L.blocksPerRow, SCALE_OFF: L.scaleOffset / 4 } };
  }
  return { define, fields: { K, NB: 0, SCALE_OFF: 0 } };
}
