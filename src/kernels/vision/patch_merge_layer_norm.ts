// patchMergeLayerNorm on the GPU (shaders/patch_merge_layer_norm.wgsl): the 2×2 slot order is a host-built
// gather table (mergeSourceRows, shared with the reference), the LayerNorm runs per gathered row.
import source from '../../../shaders/patch_merge_layer_norm.wgsl?raw';
import type { GpuRuntime } from '../../gpu/runtime.ts';
import type { GpuTensor } from '../../gpu/tensor.ts';
import { defineUniforms } from '../../gpu/uniforms.ts';
import { grid2d, ro, rw } from '../dispatch.ts';
import { checkShape } from '../shape_check.ts';
import type { Grid } from '../types.ts';
import type { GpuTableCache } from './gpu_table_cache.ts';
import { gridsKey } from './grids.ts';
import { mergeSourceRows } from './patch_merge_layer_norm.ref.ts';
import { patchMergeShapes } from './vision_shapes.ts';

const Params = defineUniforms('PatchMergeParams', { L: 'u32', D: 'u32', EPS: 'f32', ROWS_X: 'u32' });

const PARAM_DEFINE = { f32: 'P_F32', f16: 'P_F16', bf16: 'P_BF16' } as const;

export function patchMergeLayerNorm(
  rt: GpuRuntime,
  tables: GpuTableCache,
  x: GpuTensor,
  grids: readonly Grid[],
  w: GpuTensor,
  b: GpuTensor,
  eps: number,
): GpuTensor {
  // 1. shapes and dtypes
  const { L, d } = patchMergeShapes(x, grids, w, b);
  checkShape(x.dtype === 'f32', 'patchMergeLayerNorm', `x must be f32, got ${x.dtype}`);
  checkShape(
    w.dtype === b.dtype && w.dtype in PARAM_DEFINE,
    'patchMergeLayerNorm',
    `weight/bias dtypes ${w.dtype}/${b.dtype} (need one of f32, f16, bf16)`,
  );
  // 2. variant
  const defines = { [PARAM_DEFINE[w.dtype as keyof typeof PARAM_DEFINE]]: true };
  const src = tables.get(`merge-src|${gridsKey(grids)}`, () => ({
    data: mergeSourceRows(grids),
    shape: [L],
  }));
  // 3. uniforms and 4. dispatch size: one workgroup per output row
  const wg = grid2d(rt, L);
  // 5. bindings
  const out = rt.alloc([L / 4, 4 * d]);
  rt.dispatch({
    op: 'patch_merge_layer_norm',
    source,
    defines,
    uniforms: Params,
    params: { L, D: d, EPS: eps, ROWS_X: wg.x },
    bindings: [ro(x), ro(src), ro(w), ro(b), rw(out)],
    workgroups: [wg.x, wg.y],
  });
  return out;
}
