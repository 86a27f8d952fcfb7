// Multi-head latent attention of DeepSeek-V3 (spec §9.2–9.4), weight-absorbed over the latent cache.
//
// Legend: T tokens, D hidden, H heads, N qk_nope, P qk_rope, Vd v_head, R kv_lora_rank, Q q_lora_rank.

import type { MlaSlots } from '../config/weight_names.ts';
import type { Kernels, MlaDims, RmsNormWeight, RopeYarn } from '../kernels/types.ts';
import type { Tensor } from '../tensor/types.ts';
import { scope } from './scope.ts';

/** q_a_layernorm and kv_a_layernorm are built without eps, so they use the class default (golden README). */
export const LATENT_NORM_EPS = 1e-6;

export type MlaWeights = MlaSlots<Tensor>;

export interface MlaSettings {
  dims: MlaDims;
  theta: number;
  yarn?: RopeYarn;
}

/**
 * q [T, H·(N+P)] (directly or through the q_lora bottleneck) and kva [T, R+P] from rmsNorm(x): the norm
 * and both projections that read it are one GEMV at T = 1.
 */
function projections(k: Kernels, w: MlaWeights, x: Tensor, n: RmsNormWeight): [Tensor, Tensor] {
  if (w.q) return k.normMatmulPair(x, n.weight, n.eps, w.q, w.kvA); // [T, H·(N+P)], [T, R+P]
  return scope(k, (tmp) => {
    const [qa, kva] = k.normMatmulPair(x, n.weight, n.eps, w.qA!, w.kvA); // [T, Q], [T, R+P]
    tmp(qa);
    const q = k.normMatmul(qa, w.qANorm!, LATENT_NORM_EPS, w.qB!); // [T, H·(N+P)], norm fused at T = 1
    return [q, kva];
  });
}

/**
 * Attention of rmsNorm(x) (x [T, D], the norm fused into the projections) at positions pos0.., writing
 * the layer's cache rows. Returns [T, D], plus `residual` [T, D] when given (added in the output
 * projection: one GEMV at T = 1).
 */
export function mlaForward(
  k: Kernels,
  w: MlaWeights,
  s: MlaSettings,
  x: Tensor,
  norm: RmsNormWeight,
  cache: Tensor,
  pos0: number,
  residual?: Tensor,
): Tensor {
  const { qkRope: P, kvRank: R } = s.dims;
  const rope = { ropeDim: P, theta: s.theta, pos0, ...(s.yarn ? { yarn: s.yarn } : {}) };
  return scope(k, (tmp) => {
    const [qRaw, kva] = projections(k, w, x, norm); // [T, H·(N+P)], [T, R+P]
    tmp(qRaw);
    tmp(kva);
    const kPeRope = { ...rope, heads: 1, headStride: P, offset: 0 };
    if (x.shape[0] === 1) {
      // decode: slice, kv_a norm, rope and the cache write in one pass
      k.latentRowWrite(cache, kva, w.kvANorm, LATENT_NORM_EPS, kPeRope);
    } else {
      const c = tmp(k.sliceCols(kva, 0, R)); // [T, R]
      const kPeRaw = tmp(k.sliceCols(kva, R, P)); // [T, P]
      const cNorm = tmp(k.rmsNorm(c, w.kvANorm, LATENT_NORM_EPS)); // [T, R]
      const kPe = tmp(k.rope(kPeRaw, kPeRope)); // [T, P]
      k.kvCacheWrite(cache, cNorm, kPe, pos0);
    }
    // q_pe is roped inside attention (in the absorb pass on the GPU: no rope dispatch at decode)
    const o = tmp(k.mlaAttention(qRaw, w.kvB, cache, pos0, s.dims, rope)); // [T, H·Vd]
    return residual ? k.matmulAdd(o, w.o, residual) : k.matmul(o, w.o); // [T, D]
  });
}
