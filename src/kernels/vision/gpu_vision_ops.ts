// VisionOps on WebGPU. The host-built tables (RoPE cos/sin, attention tiles, merge rows) are cached per
// grids for the life of these ops; `clearVisionTables` frees them (e.g. when the model unloads).
import type { GpuRuntime } from '../../gpu/runtime.ts';
import { asGpu } from '../../gpu/tensor.ts';
import type { VisionOps } from '../types.ts';
import { GpuTableCache } from './gpu_table_cache.ts';
import { patchMergeLayerNorm } from './patch_merge_layer_norm.ts';
import { posEmbInterp } from './pos_emb_interp.ts';
import { rope2d } from './rope2d.ts';
import { visionAttention } from './vision_flash_attention.ts';

export interface GpuVisionOps extends VisionOps {
  /** Frees the cached per-grid tables. */
  clearVisionTables(): void;
}

export function createGpuVisionOps(rt: GpuRuntime): GpuVisionOps {
  const tables = new GpuTableCache(rt);
  return {
    posEmbInterp: (table, grids, gridRows) => posEmbInterp(rt, asGpu(table), grids, gridRows),
    rope2d: (qkv, grids, heads, headDim, theta) =>
      rope2d(rt, tables, { qkv: asGpu(qkv), grids, heads, headDim }, theta),
    // The flash kernel (or the varlen reference mode, rt.tuning.visionAttention).
    varlenAttention: (qkv, grids, heads, headDim) =>
      visionAttention(rt, tables, { qkv: asGpu(qkv), grids, heads, headDim }),
    patchMergeLayerNorm: (x, grids, w, b, eps) =>
      patchMergeLayerNorm(rt, tables, asGpu(x), grids, asGpu(w), asGpu(b), eps),
    clearVisionTables: () => tables.clear(),
  };
}
