// varlenAttention on the GPU (shaders/varlen_attention.wgsl): query tiles never straddle two images, and
// each tile carries its image's key range, so attention stays block-diagonal with no mask and no L×L
// score matrix.
import source from '../../../shaders/varlen_attention.wgsl?raw';
import type { GpuRuntime } from '../../gpu/runtime.ts';
import type { GpuTensor } from '../../gpu/tensor.ts';
import { defineUniforms } from '../../gpu/uniforms.ts';
import { ro, rw } from '../dispatch.ts';
import { checkShape } from '../shape_check.ts';
import type { Grid } from '../types.ts';
import type { GpuTableCache } from './gpu_table_cache.ts';
import { gridsKey, patchOffsets } from './grids.ts';
import { type PackedQkv, qkvShapes } from './vision_shapes.ts';

const Params = defineUniforms('VarlenAttnParams', { HEADS: 'u32', HD: 'u32', SCALE: 'f32' });

/** Queries per tile; must equal BQ (the workgroup size) in the shader. */
export const QUERY_TILE = 64;
const MAX_HEAD_DIM = 128;

/** (qStart, qEnd, kStart, kEnd) per tile of ≤ `queryTile` queries of one image. */
export function attentionTiles(grids: readonly Grid[], queryTile = QUERY_TILE): Uint32Array {
  const offsets = patchOffsets(grids);
  const tiles: number[] = [];
  for (let i = 0; i < grids.length; i++) {
    const start = offsets[i]!;
    const end = offsets[i + 1]!;
    for (let q = start; q < end; q += queryTile) tiles.push(q, Math.min(q + queryTile, end), start, end);
  }
  return Uint32Array.from(tiles);
}

export function varlenAttention(rt: GpuRuntime, tables: GpuTableCache, p: PackedQkv<GpuTensor>): GpuTensor {
  // 1. shapes
  const { qkv, grids, heads, headDim } = p;
  const { L, dModel } = qkvShapes('varlenAttention', qkv, grids, heads, headDim);
  checkShape(
    headDim <= MAX_HEAD_DIM,
    'varlenAttention',
    `head_dim ${headDim} > ${MAX_HEAD_DIM} is not supported`,
  );
  const tiles = tables.get(`attn-tiles|${gridsKey(grids)}`, () => {
    const data = attentionTiles(grids);
    return { data, shape: [data.length / 4, 4] };
  });
  // 3. uniforms, 4. dispatch size: (tiles, heads), 5. bindings
  const out = rt.alloc([L, dModel]);
  rt.dispatch({
    op: 'varlen_attention',
    source,
    uniforms: Params,
    params: { HEADS: heads, HD: headDim, SCALE: 1 / Math.sqrt(headDim) },
    bindings: [ro(qkv), ro(tiles), rw(out)],
    workgroups: [tiles.shape[0]!, heads],
  });
  return out;
}
