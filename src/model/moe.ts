// FFN blocks of DeepSeek-V3 (spec §9.5): dense SwiGLU (layers < first_k_dense_replace) and the routed
// MoE with always-on shared experts (width moe_intermediate_size · n_shared_experts).
//
// Legend: T tokens, D hidden, I width, E routed experts, A active experts per token.

import type { MoeSlots, SwiGluSlots } from '../config/weight_names.ts';
import type { Kernels, RmsNormWeight, RouterConfig } from '../kernels/types.ts';
import type { Tensor } from '../tensor/types.ts';
import { scope } from './scope.ts';

export type SwiGluWeights = SwiGluSlots<Tensor>;
export type MoeWeights = MoeSlots<Tensor>;

/**
 * SwiGLU of x [T, D] (of rmsNorm(x) with `norm`); with `residual` [T, D] added in the down-projection.
 * At T = 1 that is two GEMVs: gate·up with the product (and the norm) fused, and down with the add.
 */
export function swiGlu(
  k: Kernels,
  w: SwiGluWeights,
  x: Tensor,
  residual?: Tensor,
  norm?: RmsNormWeight,
): Tensor {
  return scope(k, (tmp) => {
    const a = tmp(k.gateUpSilu(x, w.gate, w.up, norm)); // [T, I] silu(x'·gateᵀ) · (x'·upᵀ)
    return residual ? k.matmulAdd(a, w.down, residual) : k.matmul(a, w.down); // [T, D]
  });
}

/**
 * Routed experts + shared experts of x [T, D] (of rmsNorm(x) with `norm`), plus `residual` [T, D] when
 * given: added in the shared experts' down-projection (fused at T = 1); the routed experts add the shared
 * output, so the block has no add of its own. At T = 1 the norm is fused into the router and both experts'
 * first projections (no norm dispatch); a prompt is normalised once.
 */
export function moeForward(
  k: Kernels,
  w: MoeWeights,
  router: RouterConfig,
  x: Tensor,
  residual?: Tensor,
  norm?: RmsNormWeight,
): Tensor {
  return scope(k, (tmp) => {
    const fused = norm && (x.shape[0] ?? 1) === 1 ? norm : undefined;
    const h = norm && !fused ? tmp(k.rmsNorm(x, norm.weight, norm.eps)) : x; // [T, D]
    const { ids, weights } = k.moeRoute(h, w.router, w.routerBias, router, fused); // [T, A] u32, [T, A]
    tmp(ids);
    tmp(weights);
    const shared = tmp(swiGlu(k, w.shared, h, residual, fused)); // [T, D]
    // the routed experts add the shared experts' output (no separate add)
    return k.moeExperts(h, ids, weights, w.expertsGate, w.expertsUp, w.expertsDown, shared, fused); // [T, D]
  });
}
