// MLA prefill on the GPU in the non-absorbed form (spec §9.3): the same contract as mlaAttention (q
// [T, H·(N+P)] with roped pe, or un-roped with qRope: roped first, the latent cache already holding rows
// 0..pos0+T−1), three steps:
//   1. mla_prefill_latent: c [n, R] and k_pe [n, P] read back from the cache for positions 0..n−1
//      (n = pos0 + T: a follow-up turn's queries see the cached prefix too)
//   2. matmul:             kv = c · kv_bᵀ  [n, H·(N+V)]  (k_nope | v per head, decompressed once per key)
//   3. mla_prefill:        causal flash attention over [k_nope | k_pe] and v   [T, H·V]
// Per (query, key, head) it costs N+P+V = 320 MACs where the absorbed form costs 2R+P = 1,088, and the
// decompression is paid once per key, not per query. The decode (T = 1) keeps the absorbed form, and so
// does a prefill this kernel cannot take (head dims not vec4-aligned or too large, a decompressed kv over
// the buffer limit, a cache dtype it does not read, or rt.tuning.mlaPrefill = 'absorbed').
import flashSource from '../../../shaders/mla_prefill.wgsl?raw';
import latentSource from '../../../shaders/mla_prefill_latent.wgsl?raw';
import { partsOf } from '../../gpu/parted_tensor.ts';
import type { GpuRuntime } from '../../gpu/runtime.ts';
import type { GpuTensor } from '../../gpu/tensor.ts';
import { defineUniforms } from '../../gpu/uniforms.ts';
import type { Tensor } from '../../tensor/types.ts';
import { matmul } from '../core/matmul.ts';
import { grid2d, ro, rw } from '../dispatch.ts';
import { partLimit } from '../parts_upload.ts';
import type { MlaDims, QRope } from '../types.ts';
import { mlaAttentionShape, qRopeOptions } from './language_shapes.ts';
import { mlaAttention } from './mla_attention.ts';
import { rope } from './rope.ts';

const LatentParams = defineUniforms('MlaLatentParams', {
  R: 'u32',
  P: 'u32',
  ROWS: 'u32',
  ROW0: 'u32',
  ROWS_X: 'u32',
});
const FlashParams = defineUniforms('MlaPrefillParams', { T: 'u32', H: 'u32', POS0: 'u32', SCALE: 'f32' });

/** Queries per workgroup; must equal BQ (16 quads × QR) in the shader. */
export const MLA_QUERY_TILE = 32;
const KEY_TILES = [32, 16, 8, 4] as const; // BK candidates, ≤ BK_MAX in the shader
const MAX_QK = 192; // NDQ_MAX · 16
const MAX_V = 128; // NDV_MAX · 16
const LATENT_WG = 256;

/** The kernel variant a call runs: what the shader's defines and overrides are made of. */
export interface MlaPrefillVariant {
  subgroups: boolean;
  /** K/V tiles: 'f32', 'f16' (shader-f16) or 'f16-packed' (halves two per u32 without shader-f16). */
  tiles: 'f32' | 'f16' | 'f16-packed';
  /** Keys per staged tile. */
  keyTile: number;
}

/** Whether the flash kernel takes these head dims (vec4 columns, qk ≤ 192, v ≤ 128). */
export function mlaPrefillSupports(d: MlaDims): boolean {
  const { qkNope: N, qkRope: P, v: V } = d;
  return N % 4 === 0 && P % 4 === 0 && V % 4 === 0 && P > 0 && V > 0 && N + P <= MAX_QK && V <= MAX_V;
}

/** Workgroup bytes of one variant: K and V tiles, plus the partial-dot exchange without subgroups. */
export function mlaPrefillWorkgroupBytes(
  d: MlaDims,
  v: Omit<MlaPrefillVariant, 'keyTile'>,
  keyTile: number,
): number {
  const tileBytes = keyTile * (d.qkNope + d.qkRope + d.v) * (v.tiles === 'f32' ? 4 : 2);
  return tileBytes + (v.subgroups ? 0 : MLA_QUERY_TILE * keyTile * 16);
}

export function chooseMlaPrefillVariant(rt: GpuRuntime, d: MlaDims): MlaPrefillVariant {
  const subgroups = rt.tuning.subgroups && rt.features.subgroups;
  const f16 = rt.tuning.attentionTiles === 'f16';
  const tiles = !f16 ? 'f32' : rt.features.shaderF16 ? 'f16' : 'f16-packed';
  const limit = rt.device.limits.maxComputeWorkgroupStorageSize;
  const keyTile = KEY_TILES.find((bk) => mlaPrefillWorkgroupBytes(d, { subgroups, tiles }, bk) <= limit) ?? 4;
  return { subgroups, tiles, keyTile };
}

/** Whether this call runs the non-absorbed form (else mlaAttention's absorbed one). */
export function mlaPrefillRuns(rt: GpuRuntime, cache: Tensor, keys: number, d: MlaDims): boolean {
  const kvBytes = keys * d.heads * (d.qkNope + d.v) * 4;
  return (
    rt.tuning.mlaPrefill !== 'absorbed' &&
    mlaPrefillSupports(d) &&
    (cache.dtype === 'f32' || (cache.dtype === 'f16' && (d.kvRank + d.qkRope) % 2 === 0)) &&
    kvBytes <= partLimit(rt)
  );
}

export function mlaPrefill(
  rt: GpuRuntime,
  q: GpuTensor,
  kvB: GpuTensor,
  cache: Tensor,
  pos0: number,
  d: MlaDims,
  qRope?: QRope,
): GpuTensor {
  // 1. shapes
  const { T } = mlaAttentionShape(q, kvB, cache, pos0, d);
  const { heads: H, qkNope: N, qkRope: P, v: V, kvRank: R } = d;
  const n = pos0 + T;
  // 2. variant
  if (!mlaPrefillRuns(rt, cache, n, d)) return mlaAttention(rt, q, kvB, cache, pos0, d, qRope);
  const v = chooseMlaPrefillVariant(rt, d);
  // the flash kernel reads q whole: an un-roped q_pe is roped first (one dispatch, as before the fusion)
  const qr = qRope ? rope(rt, q, qRopeOptions(d, pos0, qRope)) : q;

  // step 1: latent rows 0..n−1 from the cache, one dispatch per part holding some of them
  const c = rt.alloc([n, R]);
  const kpe = rt.alloc([n, P]);
  for (const part of partsOf(cache)) {
    const rows = Math.min(part.count, n - part.start);
    if (rows <= 0) continue;
    const g = grid2d(rt, Math.ceil((rows * (R + P)) / LATENT_WG));
    rt.dispatch({
      op: 'mla_prefill_latent',
      source: latentSource,
      defines: { CACHE_F16: cache.dtype === 'f16' },
      overrides: { WG: LATENT_WG },
      uniforms: LatentParams,
      params: { R, P, ROWS: rows, ROW0: part.start, ROWS_X: g.x },
      bindings: [ro(part.tensor), rw(c), rw(kpe)],
      workgroups: [g.x, g.y],
    });
  }
  // step 2: kv [n, H·(N+V)] = c · kv_bᵀ (kv_b in its storage form; the tiled GEMM's M = n)
  const kv = matmul(rt, c, kvB);
  rt.free(c);

  // step 3: causal flash attention, a workgroup per (32-query tile, head)
  const overrides: Record<string, number> = {
    N4: N / 4,
    P4: P / 4,
    V4: V / 4,
    BK: v.keyTile,
    NDQ: Math.ceil((N + P) / 16),
    NDV: Math.ceil(V / 16),
    KT_VEC4S: (v.keyTile * (N + P)) / 4,
    VT_VEC4S: (v.keyTile * V) / 4,
  };
  if (!v.subgroups) overrides.RED_VEC4S = MLA_QUERY_TILE * v.keyTile;
  const out = rt.alloc([T, H * V]);
  rt.dispatch({
    op: 'mla_prefill',
    source: flashSource,
    defines: { SUBGROUPS: v.subgroups, KV_F16: v.tiles !== 'f32', NATIVE_F16: v.tiles === 'f16' },
    overrides,
    uniforms: FlashParams,
    params: { T, H, POS0: pos0, SCALE: d.scale },
    bindings: [ro(qr), ro(kv), ro(kpe), rw(out)],
    workgroups: [Math.ceil(T / MLA_QUERY_TILE), H],
  });
  rt.free(kv, kpe);
  if (qr !== q) rt.free(qr);
  return out;
}
