// Multi-head latent attention of DeepSeek-V3 (spec §9.2–9.4), weight-absorbed over the latent cache.
//
// Legend: T tokens, D hidden, H heads, N qk_nope, P qk_rope, Vd v_head, R kv_lora_rank, Q q_lora_rank.
import type { RopeOptionsExt, RopeYarn } from '../kernels/language/rope.ref.ts';
import type { Kernels, MlaDims } from '../kernels/types.ts';
import type { Tensor } from '../tensor/types.ts';

/** q_a_layernorm and kv_a_layernorm are built without eps, so they use the class default (golden README). */
export const LATENT_NORM_EPS = 1e-6;

export interface MlaWeights {
  /** q_proj [H·(N+P), D] when q_lora_rank is null, else q_a [Q, D] → q_a_norm [Q] → q_b [H·(N+P), Q]. */
  q?: Tensor;
  qA?: Tensor;
  qANorm?: Tensor;
  qB?: Tensor;
  /** kv_a_proj_with_mqa [R+P, D]. */
  kvA: Tensor;
  kvANorm: Tensor;
  /** kv_b_proj [H·(N+Vd), R]: per head N k_nope rows then Vd v rows. */
  kvB: Tensor;
  /** o_proj [D, H·Vd]. */
  o: Tensor;
}

export interface MlaSettings {
  dims: MlaDims;
  theta: number;
  yarn?: RopeYarn;
}

type RopeKernels = Kernels & { rope(x: Tensor, o: RopeOptionsExt): Tensor };

function project(k: Kernels, w: MlaWeights, h: Tensor): Tensor {
  if (w.q) return k.matmul(h, w.q); // [T, H·(N+P)]
  const qa = k.matmul(h, w.qA!); // [T, Q]
  const qan = k.rmsNorm(qa, w.qANorm!, LATENT_NORM_EPS);
  const q = k.matmul(qan, w.qB!); // [T, H·(N+P)]
  k.release(qa, qan);
  return q;
}

/** Attention of normed hidden h [T, D] at positions pos0.., writing the layer's cache rows. Returns [T, D]. */
export function mlaForward(
  k: Kernels,
  w: MlaWeights,
  s: MlaSettings,
  h: Tensor,
  cache: Tensor,
  pos0: number,
): Tensor {
  const { heads, qkNope: N, qkRope: P, kvRank: R } = s.dims;
  const rk = k as RopeKernels;
  const rope = { ropeDim: P, theta: s.theta, pos0, ...(s.yarn ? { yarn: s.yarn } : {}) };
  const qRaw = project(k, w, h); // [T, H·(N+P)]
  const q = rk.rope(qRaw, { ...rope, heads, headStride: N + P, offset: N }); // [T, H·(N+P)], q_pe roped
  const kva = k.matmul(h, w.kvA); // [T, R+P]
  const c = k.sliceCols(kva, 0, R); // [T, R]
  const kPeRaw = k.sliceCols(kva, R, P); // [T, P]
  const cNorm = k.rmsNorm(c, w.kvANorm, LATENT_NORM_EPS); // [T, R]
  const kPe = rk.rope(kPeRaw, { ...rope, heads: 1, headStride: P, offset: 0 }); // [T, P]
  k.kvCacheWrite(cache, cNorm, kPe, pos0);
  const o = k.mlaAttention(q, w.kvB, cache, pos0, s.dims); // [T, H·Vd]
  const out = k.matmul(o, w.o); // [T, D]
  k.release(qRaw, q, kva, c, kPeRaw, cNorm, kPe, o);
  return out;
}
