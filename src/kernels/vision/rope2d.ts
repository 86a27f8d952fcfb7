// rope2d on the GPU (shaders/rope2d.wgsl) with the cos/sin table built on the host (rope2d_table.ts).
import source from '../../../shaders/rope2d.wgsl?raw';
import type { GpuRuntime } from '../../gpu/runtime.ts';
import type { GpuTensor } from '../../gpu/tensor.ts';
import { defineUniforms } from '../../gpu/uniforms.ts';
import { grid2d, ro, rw } from '../dispatch.ts';
import type { Grid } from '../types.ts';
import type { GpuTableCache } from './gpu_table_cache.ts';
import { gridsKey } from './grids.ts';
import { rope2dTable } from './rope2d_table.ts';
import { type PackedQkv, qkvShapes } from './vision_shapes.ts';

const Params = defineUniforms('Rope2dParams', {
  TOTAL: 'u32',
  ROW_PAIRS: 'u32',
  QK_PAIRS: 'u32',
  HALF: 'u32',
  ROWS_X: 'u32',
});

/** The interleaved (cos, sin) table [L, d/2, 2] for these grids. */
export function rope2dCosSin(grids: readonly Grid[], headDim: number, theta: number): Float32Array {
  const { cos, sin } = rope2dTable(grids, headDim, theta);
  const cs = new Float32Array(cos.length * 2);
  for (let i = 0; i < cos.length; i++) {
    cs[2 * i] = cos[i]!;
    cs[2 * i + 1] = sin[i]!;
  }
  return cs;
}

export function rope2d(
  rt: GpuRuntime,
  tables: GpuTableCache,
  p: PackedQkv<GpuTensor>,
  theta: number,
): GpuTensor {
  // 1. shapes (no variants)
  const { qkv, grids, heads, headDim } = p;
  const { L, dModel } = qkvShapes('rope2d', qkv, grids, heads, headDim);
  const cs = tables.get(`rope2d|${gridsKey(grids)}|${headDim}|${theta}`, () => ({
    data: rope2dCosSin(grids, headDim, theta),
    shape: [L, headDim / 2, 2],
  }));
  // 3. uniforms and 4. dispatch size: one thread per (row, pair)
  const total = (L * 3 * dModel) / 2;
  const wg = grid2d(rt, Math.ceil(total / 64));
  const params = {
    TOTAL: total,
    ROW_PAIRS: (3 * dModel) / 2,
    QK_PAIRS: dModel,
    HALF: headDim / 2,
    ROWS_X: wg.x,
  };
  // 5. bindings
  const out = rt.alloc(qkv.shape);
  rt.dispatch({
    op: 'rope2d',
    source,
    uniforms: Params,
    params,
    bindings: [ro(qkv), ro(cs), rw(out)],
    workgroups: [wg.x, wg.y],
  });
  return out;
}
