// MLA decode (T = 1) on the GPU, weight-absorbed over the latent cache (spec §9.4), in three dispatches:
//   1. mla_attention_absorb: qcat[h] = [W_UK[h]ᵀ q_nope | q_pe] (q_pe roped here with qRope)   [H, R+P]
//   2. mla_decode: one workgroup per key split serving ALL heads (each cache row read once per token),
//      writing per-split partials (o, max, denominator); a cache in parts: one dispatch per part, its
//      splits aligned to the part                                                 [S, H, R], [S, H, 2]
//   3. mla_decode_out: per head, the splits merged and W_UV applied in one workgroup  [1, H·V]
// The cache is f32, or f16 (read packed two per u32, or natively where the adapter has shader-f16).
import decodeSource from '../../../shaders/mla_decode.wgsl?raw';
import quadSource from '../../../shaders/mla_decode_hq.wgsl?raw';
import outSource from '../../../shaders/mla_decode_out.wgsl?raw';
import { partsOf } from '../../gpu/parted_tensor.ts';
import type { GpuRuntime } from '../../gpu/runtime.ts';
import { type GpuTensor, storageBytes } from '../../gpu/tensor.ts';
import { defineUniforms } from '../../gpu/uniforms.ts';
import type { Tensor } from '../../tensor/types.ts';
import { ro, rw, WEIGHT_UNIFORMS, weightAccess } from '../dispatch.ts';
import { checkShape } from '../shape_check.ts';
import type { MlaDims, QRope } from '../types.ts';
import { mlaAttentionShape } from './language_shapes.ts';
import { chooseMlaAbsorbVariant, type MlaAbsorbVariant, mlaAbsorb, vec8Fits } from './mla_absorb.ts';
import {
  defaultHeadsPerLane,
  type HeadsPerLane,
  type MlaDecodePlan,
  planMlaDecode,
} from './mla_decode_plan.ts';

/** How the kernel reads the cache: f32, f16 unpacked from u32 words, or native f16 (shader-f16). */
export type LatentCacheRead = 'f32' | 'f16-packed' | 'f16-native';

export interface MlaDecodeVariant {
  subgroups: boolean;
  cache: LatentCacheRead;
  /** 1: mla_decode.wgsl, 4: mla_decode_hq.wgsl (see mla_decode_plan.ts); default: the adapter's. */
  headsPerLane?: HeadsPerLane;
  /** The absorb pass (mla_absorb.ts); default: the adapter's. */
  absorb?: MlaAbsorbVariant;
  /**
   * mla_decode_out: 'split-lanes' (32 lanes a value row, coalesced) or 'row-lanes' (a lane a row from
   * vec4<u32> words; bf16/f16 kv_b with R % 8 = 0, else split-lanes); default: row-lanes on CPU adapters.
   */
  out?: MlaDecodeOut;
}

export type MlaDecodeOut = 'split-lanes' | 'row-lanes';

const DecodeParams = defineUniforms('MlaDecodeParams', {
  H: 'u32',
  R: 'u32',
  P: 'u32',
  SCALE: 'f32',
  CHUNK: 'u32',
  SPLIT0: 'u32',
  KEY0: 'u32',
  KEY_END: 'u32',
});
const OutParams = defineUniforms('MlaDecodeOutParams', {
  H: 'u32',
  N: 'u32',
  V: 'u32',
  SPLITS: 'u32',
  ...WEIGHT_UNIFORMS,
});
/** Register and workgroup bounds of mla_decode.wgsl (LPH·QD, LPH·OD) and mla_decode_out.wgsl (MAX_R). */
const MAX_W = 576;
const MAX_R = 512;

/** Whether these dims fit the all-heads kernel (the real model's do); otherwise mlaAttention runs. */
export function mlaDecodeFits(d: MlaDims): boolean {
  const W = d.kvRank + d.qkRope;
  return W % 2 === 0 && W <= MAX_W && d.kvRank <= MAX_R;
}

/** The variant this adapter runs for a cache of this dtype (tests force the others). */
export function chooseMlaDecodeVariant(rt: GpuRuntime, cacheDtype: Tensor['dtype']): MlaDecodeVariant {
  const subgroups = rt.tuning.subgroups && rt.features.subgroups;
  const headsPerLane = defaultHeadsPerLane(rt);
  if (cacheDtype === 'f32') return { subgroups, cache: 'f32', headsPerLane };
  return { subgroups, cache: rt.features.shaderF16 ? 'f16-native' : 'f16-packed', headsPerLane };
}

const CACHE_DEFINE: Record<LatentCacheRead, string> = {
  f32: 'CACHE_F32',
  'f16-packed': 'CACHE_F16_PACKED',
  'f16-native': 'CACHE_F16_NATIVE',
};

export interface MlaDecodeOptions {
  variant?: MlaDecodeVariant;
  /** Keys per split (tests force split boundaries); by default sized to the adapter and context. */
  chunk?: number;
  /** q's pe arrives un-roped: the absorb pass ropes it (position pos0). */
  qRope?: QRope;
}

/** o [1, H·V] of the token at position pos0 over cache rows 0..pos0 (the cache already holds row pos0). */
export function mlaDecode(
  rt: GpuRuntime,
  q: GpuTensor,
  kvB: GpuTensor,
  cache: Tensor,
  pos0: number,
  d: MlaDims,
  opts: MlaDecodeOptions = {},
): GpuTensor {
  const { heads: H, qkNope: N, qkRope: P, v: V, kvRank: R } = d;
  const { T } = mlaAttentionShape(q, kvB, cache, pos0, d);
  checkShape(T === 1, 'mlaDecode', `decodes one token, got ${T}`);
  checkShape(mlaDecodeFits(d), 'mlaDecode', `R ${R} + P ${P} must be even, ≤ ${MAX_W}, R ≤ ${MAX_R}`);
  const variant = opts.variant ?? chooseMlaDecodeVariant(rt, cache.dtype);
  const f16 = variant.cache !== 'f32';
  checkShape((cache.dtype === 'f16') === f16, 'mlaDecode', `a ${cache.dtype} cache read as ${variant.cache}`);
  const W = R + P;
  const a = weightAccess(kvB);

  const absorb = variant.absorb ?? chooseMlaAbsorbVariant(rt, kvB);
  const qcat = mlaAbsorb(rt, q, kvB, pos0, d, opts.qRope, absorb); // [1, H, W]

  const hpl = variant.headsPerLane ?? defaultHeadsPerLane(rt);
  const plan = planMlaDecode(rt, d, pos0 + 1, partsOf(cache), f16, opts.chunk, hpl);
  // replay: the plan at another position, where its split layout (workgroups, bindings) is this one's
  const sameLayoutAt = samePlanAt(plan, (pos) =>
    planMlaDecode(rt, d, pos + 1, partsOf(cache), f16, opts.chunk, hpl),
  );
  const tileWords: Record<string, number> =
    hpl === 4 ? { QUAD_WORDS: (plan.wg / 16) * plan.tk } : { TILE_WORDS: plan.tk * W };
  const part = rt.alloc([plan.splits, H, R]);
  const ml = rt.alloc([plan.splits, H, 2]);
  plan.parts.forEach((p, i) => {
    rt.dispatch({
      op: 'mla_decode',
      source: hpl === 4 ? quadSource : decodeSource,
      defines: { SUBGROUPS: variant.subgroups, [CACHE_DEFINE[variant.cache]]: true },
      overrides: { WG: plan.wg, TK: plan.tk, ...tileWords, RED_WORDS: plan.wg * plan.tk },
      uniforms: DecodeParams,
      params: {
        H,
        R,
        P,
        SCALE: d.scale,
        CHUNK: plan.chunk,
        SPLIT0: p.split0,
        KEY0: p.key0,
        KEY_END: p.keyEnd,
      },
      perStep: ({ pos }) => {
        const q = sameLayoutAt(pos);
        const qp = q?.parts[i];
        return qp ? { CHUNK: q.chunk, SPLIT0: qp.split0, KEY0: qp.key0, KEY_END: qp.keyEnd } : null;
      },
      bindings: [ro(qcat), ro(p.tensor), rw(part), rw(ml)],
      workgroups: [p.splits, plan.headGroups],
    });
  });

  const o = rt.alloc([1, H * V]);
  const rowLanes =
    (variant.out ?? (rt.info.isFallbackAdapter ? 'row-lanes' : 'split-lanes')) === 'row-lanes' &&
    vec8Fits(kvB);
  rt.dispatch({
    op: 'mla_decode_out',
    source: outSource,
    defines: { [a.define]: true, ROW_LANES: rowLanes },
    // row-lanes: a lane per value row (V = 128 on the real model)
    overrides: { WG: rowLanes ? 128 : 256 },
    uniforms: OutParams,
    params: { H, N, V, SPLITS: plan.splits, ...a.fields },
    perStep: ({ pos }) => (sameLayoutAt(pos) ? {} : null),
    bindings: [ro(part), ro(ml), ro(kvB), rw(o)],
    workgroups: [H],
    weightBytes: storageBytes([H * V, R], kvB.dtype),
  });
  rt.free(qcat, part, ml);
  return o;
}

/**
 * The plan at a position (memoised: every dispatch of a layer asks for the same one) where it splits the
 * keys into the same parts and split counts as `plan`, else null.
 */
function samePlanAt(
  plan: MlaDecodePlan,
  planAt: (pos: number) => MlaDecodePlan,
): (pos: number | undefined) => MlaDecodePlan | null {
  let memo: { pos: number; plan: MlaDecodePlan | null } | null = null;
  return (pos) => {
    if (pos === undefined) return null;
    if (memo?.pos !== pos) {
      const q = planAt(pos);
      const same =
        q.splits === plan.splits &&
        q.parts.length === plan.parts.length &&
        q.parts.every((x, i) => x.tensor === plan.parts[i]!.tensor && x.splits === plan.parts[i]!.splits);
      memo = { pos, plan: same ? q : null };
    }
    return memo.plan;
  };
}

export type { MlaDecodePlan };
