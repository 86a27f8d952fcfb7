// Row normalisations on the GPU: RMSNorm and LayerNorm (one shader, LAYER_NORM define).
import source from '../../../shaders/norm.wgsl?raw';
import type { GpuRuntime } from '../../gpu/runtime.ts';
import type { GpuTensor } from '../../gpu/tensor.ts';
import { defineUniforms } from '../../gpu/uniforms.ts';
import { grid2d, ro, rw } from '../dispatch.ts';
import { checkShape } from '../shape_check.ts';
import { normShape } from './core_shapes.ts';

const Params = defineUniforms('NormParams', { rows: 'u32', D: 'u32', eps: 'f32', ROWS_X: 'u32' });

function normalize(rt: GpuRuntime, x: GpuTensor, w: GpuTensor, b: GpuTensor | null, eps: number): GpuTensor {
  const op = b ? 'layerNorm' : 'rmsNorm';
  const { rows, D } = normShape(op, x, w, b);
  // Rank-1 weights are widened to f32 at upload (gpu_core_ops.ts), which is all this kernel reads.
  checkShape(w.dtype === 'f32' && (!b || b.dtype === 'f32'), op, 'norm params must be f32');
  const g = grid2d(rt, Math.max(1, rows));
  const y = rt.alloc(x.shape);
  rt.dispatch({
    op: 'norm',
    source,
    defines: { LAYER_NORM: !!b },
    uniforms: Params,
    params: { rows, D, eps, ROWS_X: g.x },
    bindings: [ro(x), ro(w), ...(b ? [ro(b)] : []), rw(y)],
    workgroups: [g.x, g.y],
    weightBytes: (b ? 2 : 1) * D * 4,
  });
  return y;
}

export const rmsNorm = (rt: GpuRuntime, x: GpuTensor, w: GpuTensor, eps: number) =>
  normalize(rt, x, w, null, eps);
export const layerNorm = (rt: GpuRuntime, x: GpuTensor, w: GpuTensor, b: GpuTensor, eps: number) =>
  normalize(rt, x, w, b, eps);
