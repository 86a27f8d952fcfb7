// VisionOps on the reference backend: shared shape checks, then the *.ref.ts loops.
import { asRef, RefTensor } from '../ref_tensor.ts';
import type { VisionOps } from '../types.ts';
import { patchMergeLayerNormRef } from './patch_merge_layer_norm.ref.ts';
import { posEmbInterpRef } from './pos_emb_interp.ref.ts';
import { rope2dRef } from './rope2d.ref.ts';
import { varlenAttentionRef } from './varlen_attention.ref.ts';
import { patchMergeShapes, posEmbInterpShapes, qkvShapes } from './vision_shapes.ts';

export function createRefVisionOps(): VisionOps {
  return {
    posEmbInterp(table, grids, gridRows) {
      const { h0, w0, d, L } = posEmbInterpShapes(table, grids, gridRows);
      const all = posEmbInterpRef(asRef(table).f32, h0, w0, d, grids);
      const row0 = gridRows ? gridRows.start * grids[0]!.w : 0;
      return new RefTensor([L, d], 'f32', all.slice(row0 * d, (row0 + L) * d));
    },
    rope2d(qkv, grids, heads, headDim, theta) {
      qkvShapes('rope2d', qkv, grids, heads, headDim);
      return new RefTensor([...qkv.shape], 'f32', rope2dRef(asRef(qkv).f32, grids, heads, headDim, theta));
    },
    varlenAttention(qkv, grids, heads, headDim) {
      const { L, dModel } = qkvShapes('varlenAttention', qkv, grids, heads, headDim);
      return new RefTensor([L, dModel], 'f32', varlenAttentionRef(asRef(qkv).f32, grids, heads, headDim));
    },
    patchMergeLayerNorm(x, grids, w, b, eps) {
      const { L, d } = patchMergeShapes(x, grids, w, b);
      const y = patchMergeLayerNormRef(asRef(x).f32, d, grids, asRef(w).f32, asRef(b).f32, eps);
      return new RefTensor([L / 4, 4 * d], 'f32', y);
    },
  };
}
