// posEmbInterp on the GPU: one dispatch per image into one output [Σhw, D] (shaders/pos_emb_interp.wgsl),
// or grid rows [GR0, GR0 + count) of one image into [count·w, D] (an image chunk under a buffer limit).
import source from '../../../shaders/pos_emb_interp.wgsl?raw';
import type { GpuRuntime } from '../../gpu/runtime.ts';
import { type GpuTensor, storageBytes } from '../../gpu/tensor.ts';
import { defineUniforms } from '../../gpu/uniforms.ts';
import type { WeightDType } from '../../tensor/types.ts';
import { ro, rw, WEIGHT_DEFINE } from '../dispatch.ts';
import { checkShape } from '../shape_check.ts';
import type { Grid, GridRows } from '../types.ts';
import { patchOffsets } from './grids.ts';
import { posEmbInterpShapes } from './vision_shapes.ts';

const Params = defineUniforms('PosEmbParams', {
  K: 'u32',
  H0: 'u32',
  W0: 'u32',
  GH: 'u32',
  GW: 'u32',
  ROW0: 'u32',
  GR0: 'u32',
  SCALE_H: 'f32',
  SCALE_W: 'f32',
});

export function posEmbInterp(
  rt: GpuRuntime,
  table: GpuTensor,
  grids: readonly Grid[],
  gridRows?: GridRows,
): GpuTensor {
  // 1. shapes and dtypes
  const { h0, w0, d, L } = posEmbInterpShapes(table, grids, gridRows);
  const dtype = table.dtype as WeightDType;
  checkShape(
    ['f32', 'f16', 'bf16'].includes(dtype),
    'posEmbInterp',
    `table dtype ${dtype} unsupported (keep vision weights f16/bf16/f32)`,
  );
  // 2. variant
  const defines = { [WEIGHT_DEFINE[dtype]]: true };
  const out = rt.alloc([L, d]);
  const offsets = patchOffsets(grids);
  grids.forEach((g, i) => {
    // 3. uniforms: torch computes the scale in float32 (input/output size).
    const params = {
      K: d,
      H0: h0,
      W0: w0,
      GH: g.h,
      GW: g.w,
      ROW0: gridRows ? 0 : offsets[i]!,
      GR0: gridRows?.start ?? 0,
      SCALE_H: Math.fround(h0 / g.h),
      SCALE_W: Math.fround(w0 / g.w),
    };
    // 4. dispatch size: one workgroup per output patch; 5. bindings
    rt.dispatch({
      op: 'pos_emb_interp',
      source,
      defines,
      uniforms: Params,
      params,
      bindings: [ro(table), rw(out)],
      workgroups: [g.w, gridRows?.count ?? g.h],
      weightBytes: storageBytes(table.shape, dtype),
    });
  });
  return out;
}
