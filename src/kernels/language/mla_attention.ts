// mlaAttention on the GPU, weight-absorbed over the latent cache (spec §9.4), in three dispatches:
//   1. mla_attention_absorb: qcat[t,h] = [W_UK[h]ᵀ q_nope | q_pe]          [T, H, R+P]
//      (mla_absorb.ts; with qRope it also ropes q_pe, so no rope dispatch runs before)
//   2. mla_attention_attend: o_lat[t,h] = causal softmax-weighted sum of cache c-rows (online softmax)
//      [T, H, R] (decode over a long context: key ranges in parallel workgroups, merged by
//      mla_attention_combine; a cache in parts: one split per part, merged the same way)
//   3. mla_attention_out:    o[t,h] = W_UV[h] o_lat[t,h]                     [T, H·V]
// kv_b is read in its storage form (f32/f16/bf16/q8/q4) through shaders/common/weights.wgsl. The cache is
// f32 or f16 (halves packed two per u32). Decode (T = 1) runs mla_decode.ts instead: one workgroup per key
// split serving all heads, so each cache row is read once per token (these passes stay for T > 1, for dims
// that kernel does not fit, and as the bench baseline in bench/baseline/).
import attendSource from '../../../shaders/mla_attention_attend.wgsl?raw';
import combineSource from '../../../shaders/mla_attention_combine.wgsl?raw';
import outSource from '../../../shaders/mla_attention_out.wgsl?raw';
import { partsOf } from '../../gpu/parted_tensor.ts';
import type { Binding, GpuRuntime } from '../../gpu/runtime.ts';
import { type GpuTensor, storageBytes } from '../../gpu/tensor.ts';
import { defineUniforms } from '../../gpu/uniforms.ts';
import type { Tensor } from '../../tensor/types.ts';
import { exactGrid, grid2d, ro, rw, WEIGHT_UNIFORMS, weightAccess } from '../dispatch.ts';
import { checkShape } from '../shape_check.ts';
import type { MlaDims, QRope } from '../types.ts';
import { mlaAttentionShape } from './language_shapes.ts';
import { mlaAbsorb } from './mla_absorb.ts';
import { mlaDecode, mlaDecodeFits } from './mla_decode.ts';

/** The out pass reads kv_b's value rows: T tokens, H heads, N nope rows and V value rows per head. */
const OutParams = defineUniforms('MlaOutParams', {
  T: 'u32',
  H: 'u32',
  N: 'u32',
  P: 'u32',
  V: 'u32',
  ...WEIGHT_UNIFORMS,
  ROWS_X: 'u32',
});
const AttendParams = defineUniforms('MlaAttendParams', {
  H: 'u32',
  R: 'u32',
  P: 'u32',
  pos0: 'u32',
  SCALE: 'f32',
  SPLITS: 'u32',
  CHUNK: 'u32',
  ROWS_X: 'u32',
  SPLIT0: 'u32',
  GRID_SPLITS: 'u32',
  KEY0: 'u32',
  KEY_END: 'u32',
});
const CombineParams = defineUniforms('MlaCombineParams', {
  n: 'u32',
  R: 'u32',
  SPLITS: 'u32',
  ROWS_X: 'u32',
});
/** Workgroup-memory bounds of mla_attention_attend/_out (MAX_W, MAX_R there). */
const MAX_W = 1152;
const MAX_R = 1088;
/** Decode splits the keys into ranges of ≥ KEYS_PER_SPLIT (a multiple of mla_attention_attend's WG), at most MAX_SPLITS. */
const KEYS_PER_SPLIT = 256;
const MAX_SPLITS = 32;

/** Key ranges for one query row over `keys` keys: prefill rows already give T·H workgroups. */
export function attendSplits(T: number, keys: number): { splits: number; chunk: number } {
  const splits = T === 1 ? Math.min(MAX_SPLITS, Math.ceil(keys / KEYS_PER_SPLIT)) : 1;
  if (splits <= 1) return { splits: 1, chunk: 0xffffffff };
  return { splits, chunk: Math.ceil(keys / splits / 64) * 64 };
}

export function mlaAttention(
  rt: GpuRuntime,
  q: GpuTensor,
  kvB: GpuTensor,
  cache: Tensor,
  pos0: number,
  d: MlaDims,
  qRope?: QRope,
): GpuTensor {
  const { heads: H, qkNope: N, qkRope: P, v: V, kvRank: R } = d;
  const { T } = mlaAttentionShape(q, kvB, cache, pos0, d);
  if (T === 1 && mlaDecodeFits(d)) return mlaDecode(rt, q, kvB, cache, pos0, d, qRope ? { qRope } : {});
  const W = R + P;
  checkShape(
    W <= MAX_W && R <= MAX_R,
    'mlaAttention',
    `kv_lora_rank ${R} + rope ${P} exceeds the kernel's ${MAX_W}`,
  );
  const qcat = mlaAbsorb(rt, q, kvB, pos0, d, qRope); // [T, H, W]

  const olat = rt.alloc([T, H, R]);
  // A cache in parts: one split per part holding visible keys, aligned to the part (its first key and
  // its end bound), merged by the combine pass like decode's key splits.
  const cacheParts = partsOf(cache).filter((p) => p.start < pos0 + T);
  const one = cacheParts.length === 1;
  const { splits, chunk } = one ? attendSplits(T, pos0 + 1) : { splits: cacheParts.length, chunk: 0 };
  const part = splits > 1 ? rt.alloc([T * H * splits, R]) : olat;
  const ml = splits > 1 ? rt.alloc([T * H * splits, 2]) : null;
  cacheParts.forEach((p, i) => {
    const gridSplits = one ? splits : 1;
    const g2 = exactGrid(rt, T * H * gridSplits);
    const keys = one
      ? { SPLIT0: 0, CHUNK: chunk, KEY0: 0, KEY_END: 0xffffffff }
      : { SPLIT0: i, CHUNK: p.count, KEY0: p.start, KEY_END: p.start + p.count };
    rt.dispatch({
      op: 'mla_attention_attend',
      source: attendSource,
      defines: { SPLIT: splits > 1, CACHE_F16: cache.dtype === 'f16' },
      overrides: { WG: 64 },
      uniforms: AttendParams,
      params: {
        H,
        R,
        P,
        pos0,
        SCALE: d.scale,
        SPLITS: splits,
        ROWS_X: g2.x,
        GRID_SPLITS: gridSplits,
        ...keys,
      },
      bindings: [ro(qcat), ro(p.tensor), rw(part), ...(ml ? [rw(ml)] : [])],
      workgroups: [g2.x, g2.y],
    });
  });
  if (ml) {
    const gc = grid2d(rt, Math.ceil((T * H * R) / 256));
    rt.dispatch({
      op: 'mla_attention_combine',
      source: combineSource,
      overrides: { WG: 256 },
      uniforms: CombineParams,
      params: { n: T * H * R, R, SPLITS: splits, ROWS_X: gc.x },
      bindings: [ro(part), ro(ml), rw(olat)],
      workgroups: [gc.x, gc.y],
    });
    rt.free(part, ml);
  }

  // the out pass streams the H·v value rows of kv_b (absorb read the H·nope k rows: kv_b once a token)
  const o = rt.alloc([T, H * V]);
  const a = weightAccess(kvB);
  const g3 = exactGrid(rt, H * V);
  rt.dispatch({
    op: 'mla_attention_out',
    source: outSource,
    defines: { [a.define]: true },
    overrides: { WG: 64 },
    uniforms: OutParams,
    params: { T, H, N, P, V, ...a.fields, ROWS_X: g3.x },
    bindings: [ro(olat), ro(kvB), rw(o)],
    workgroups: [g3.x, g3.y],
    weightBytes: storageBytes([H * V, R], kvB.dtype),
  });
  rt.free(qcat, olat);
  return o;
}
