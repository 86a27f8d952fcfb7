// Row normalisations on the GPU: RMSNorm and LayerNorm (one shader, LAYER_NORM define).
import normSource from '../../../shaders/norm.wgsl?raw';
import softmaxSource from '../../../shaders/softmax.wgsl?raw';
import type { GpuRuntime } from '../../gpu/runtime.ts';
import type { GpuTensor } from '../../gpu/tensor.ts';
import { defineUniforms } from '../../gpu/uniforms.ts';
import { grid2d } from './matmul.ts';
import { checkShape } from './ref_core_ops.ts';

const NormParams = defineUniforms('NormParams', { rows: 'u32', D: 'u32', eps: 'f32', ROWS_X: 'u32' });
const SoftmaxParams = defineUniforms('SoftmaxParams', { rows: 'u32', D: 'u32', ROWS_X: 'u32' });

function rowsOf(x: GpuTensor): { rows: number; D: number } {
  const D = x.shape[x.shape.length - 1]!;
  return { rows: x.numel / D, D };
}

function normalize(rt: GpuRuntime, x: GpuTensor, w: GpuTensor, b: GpuTensor | null, eps: number): GpuTensor {
  const { rows, D } = rowsOf(x);
  const op = b ? 'layerNorm' : 'rmsNorm';
  checkShape(w.numel === D && (!b || b.numel === D), op, `params [${w.shape}] for width ${D}`);
  checkShape(w.dtype === 'f32' && (!b || b.dtype === 'f32'), op, 'norm params must be f32');
  const g = grid2d(rt, Math.max(1, rows));
  const y = rt.alloc(x.shape);
  rt.dispatch({
    op: 'norm',
    source: normSource,
    defines: { LAYER_NORM: !!b },
    uniforms: NormParams,
    params: { rows, D, eps, ROWS_X: g.x },
    bindings: [
      { tensor: x, access: 'read' },
      { tensor: w, access: 'read' },
      ...(b ? [{ tensor: b, access: 'read' as const }] : []),
      { tensor: y, access: 'rw' },
    ],
    workgroups: [g.x, g.y],
    weightBytes: (b ? 2 : 1) * D * 4,
  });
  return y;
}

export const rmsNorm = (rt: GpuRuntime, x: GpuTensor, w: GpuTensor, eps: number) =>
  normalize(rt, x, w, null, eps);
export const layerNorm = (rt: GpuRuntime, x: GpuTensor, w: GpuTensor, b: GpuTensor, eps: number) =>
  normalize(rt, x, w, b, eps);

export function softmax(rt: GpuRuntime, x: GpuTensor): GpuTensor {
  const { rows, D } = rowsOf(x);
  const g = grid2d(rt, Math.max(1, rows));
  const y = rt.alloc(x.shape);
  rt.dispatch({
    op: 'softmax',
    source: softmaxSource,
    uniforms: SoftmaxParams,
    params: { rows, D, ROWS_X: g.x },
    bindings: [
      { tensor: x, access: 'read' },
      { tensor: y, access: 'rw' },
    ],
    workgroups: [g.x, g.y],
  });
  return y;
}
