// MoonViT attention on the GPU, FlashAttention-2 style (shaders/vision_flash_attention.wgsl). Same contract
// and reference as varlenAttention (varlen_attention.ref.ts): query tiles never straddle two images and
// each tile carries its image's key range, so attention stays exact and block-diagonal (Σ nᵢ² work).
// The variant comes from rt.tuning (K/V tiles in f16 or f32, subgroup or workgroup-memory reductions) and
// the adapter's features; the keys per tile are the most that fit the workgroup-memory limit. A CPU adapter
// runs 16 queries per quad with subgroups (its workgroup-memory reads are per-lane gathers: 16 quarter them
// per query against 4) and 8 without (16's partial-dot exchange leaves room for 4 keys a tile, which
// measured slower on SwiftShader); a GPU runs 4 (more would need 2-4× the registers). rt.tuning.flashQueries
// forces it.
import source from '../../../shaders/vision_flash_attention.wgsl?raw';
import type { GpuRuntime, Tuning } from '../../gpu/runtime.ts';
import type { GpuTensor } from '../../gpu/tensor.ts';
import { defineUniforms } from '../../gpu/uniforms.ts';
import { ro, rw } from '../dispatch.ts';
import type { GpuTableCache } from './gpu_table_cache.ts';
import { gridsKey } from './grids.ts';
import { attentionTiles, varlenAttention } from './varlen_attention.ts';
import { type PackedQkv, qkvShapes } from './vision_shapes.ts';

const Params = defineUniforms('FlashAttnParams', { HEADS: 'u32', HD: 'u32', SCALE: 'f32' });

/** Lanes per workgroup (16 quads): the no-subgroup reduction holds a vec4 of partials per lane, key and 4 queries. */
const FLASH_LANES = 64;
/** Queries per quad of 4 lanes (the shader's QR, in groups of 4 queries). */
export type FlashQueries = NonNullable<Tuning['flashQueries']>;
/** Queries per workgroup: the shader's 16 quads × its queries per quad (QR). */
export const flashQueryTile = (queriesPerQuad: FlashQueries) => 16 * queriesPerQuad;
const KEY_TILES = [32, 16, 8, 4] as const; // BK candidates: the shader takes keys 4 at a time, ≤ 32
const MAX_HEAD_DIM = 128; // the shader's 8 named vec4 columns per lane × 4 lanes × 4

/** The kernel variant a call runs: what the shader's defines and overrides are made of. */
export interface FlashVariant {
  subgroups: boolean;
  /** K/V tiles: 'f32', 'f16' (shader-f16) or 'f16-packed' (halves two per u32 without shader-f16). */
  tiles: 'f32' | 'f16' | 'f16-packed';
  /** Keys per staged tile. */
  keyTile: number;
  /** Queries per quad of 4 lanes (the shader's QR): each K/V read serves this many queries. */
  queriesPerQuad: FlashQueries;
}

/** Whether the flash kernel takes this head dim (vec4 columns, ≤ 128); others run the varlen kernel. */
export function flashSupports(headDim: number): boolean {
  return headDim % 4 === 0 && headDim > 0 && headDim <= MAX_HEAD_DIM;
}

/** Workgroup bytes of one variant: K and V tiles, plus the partial-dot exchange without subgroups. */
export function flashWorkgroupBytes(headDim: number, v: Omit<FlashVariant, 'keyTile'>, keyTile: number) {
  const tileBytes = keyTile * headDim * (v.tiles === 'f32' ? 4 : 2);
  return 2 * tileBytes + (v.subgroups ? 0 : redVec4s(v, keyTile) * 16);
}

const redVec4s = (v: Omit<FlashVariant, 'keyTile'>, keyTile: number) =>
  (FLASH_LANES * keyTile * v.queriesPerQuad) / 4;

/**
 * The variant for this adapter and tuning (rt.tuning.flashQueries forces the query blocking: tests, bench).
 * The keys per tile are the most that fit the workgroup-memory limit; an unforced blocking whose
 * reduction space does not fit even 4 keys (no subgroups, a small limit) falls back to fewer queries.
 */
export function chooseFlashVariant(rt: GpuRuntime, headDim: number): FlashVariant {
  const subgroups = rt.tuning.subgroups && rt.features.subgroups;
  const f16 = rt.tuning.attentionTiles === 'f16';
  const tiles = !f16 ? 'f32' : rt.features.shaderF16 ? 'f16' : 'f16-packed';
  const forced = rt.tuning.flashQueries;
  const cpu: FlashQueries[] = subgroups ? [16, 8, 4] : [8, 4];
  const candidates: FlashQueries[] = forced ? [forced] : rt.info.isFallbackAdapter ? cpu : [4];
  const limit = rt.device.limits.maxComputeWorkgroupStorageSize;
  for (const queriesPerQuad of candidates) {
    const base = { subgroups, tiles, queriesPerQuad } as const;
    const keyTile = KEY_TILES.find((bk) => flashWorkgroupBytes(headDim, base, bk) <= limit);
    if (keyTile !== undefined) return { ...base, keyTile };
  }
  // forced past the limit: the smallest tile, so the pipeline's own validation names the overflow
  return { subgroups, tiles, queriesPerQuad: candidates[0]!, keyTile: 4 };
}

export function visionFlashAttention(
  rt: GpuRuntime,
  tables: GpuTableCache,
  p: PackedQkv<GpuTensor>,
): GpuTensor {
  // 1. shapes
  const { qkv, grids, heads, headDim } = p;
  const { L, dModel } = qkvShapes('visionFlashAttention', qkv, grids, heads, headDim);
  if (!flashSupports(headDim)) return varlenAttention(rt, tables, p);
  // 2. variant
  const v = chooseFlashVariant(rt, headDim);
  const queryTile = flashQueryTile(v.queriesPerQuad);
  const tiles = tables.get(`flash-tiles|${queryTile}|${gridsKey(grids)}`, () => {
    const data = attentionTiles(grids, queryTile);
    return { data, shape: [data.length / 4, 4] };
  });
  const overrides: Record<string, number> = {
    HD: headDim,
    BK: v.keyTile,
    ND: Math.ceil(headDim / 16),
    KV_VEC4S: (2 * v.keyTile * headDim) / 4,
  };
  if (!v.subgroups) overrides.RED_VEC4S = redVec4s(v, v.keyTile);
  // 3. uniforms, 4. dispatch size: (tiles, heads), 5. bindings
  const out = rt.alloc([L, dModel]);
  rt.dispatch({
    op: 'vision_flash_attention',
    source,
    defines: {
      SUBGROUPS: v.subgroups,
      KV_F16: v.tiles !== 'f32',
      NATIVE_F16: v.tiles === 'f16',
      QR8: v.queriesPerQuad >= 8,
      QR16: v.queriesPerQuad === 16,
    },
    overrides,
    uniforms: Params,
    params: { HEADS: heads, HD: headDim, SCALE: 1 / Math.sqrt(headDim) },
    bindings: [ro(qkv), ro(tiles), rw(out)],
    workgroups: [tiles.shape[0]!, heads],
  });
  return out;
}

/** The attention the vision ops run: the flash kernel, or the varlen one when tuning asks for it. */
export function visionAttention(rt: GpuRuntime, tables: GpuTableCache, p: PackedQkv<GpuTensor>): GpuTensor {
  return rt.tuning.visionAttention === 'varlen'
    ? varlenAttention(rt, tables, p)
    : visionFlashAttention(rt, tables, p);
}
