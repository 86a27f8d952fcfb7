// FFN blocks of DeepSeek-V3 (spec §9.5): dense SwiGLU (layers < first_k_dense_replace) and the routed
// MoE with always-on shared experts (width moe_intermediate_size · n_shared_experts).
//
// Legend: T tokens, D hidden, I width, E routed experts, A active experts per token.

import type { Kernels, RouterConfig } from '../kernels/types.ts';
import type { Tensor } from '../tensor/types.ts';

export interface SwiGluWeights {
  /** gate, up [I, D]; down [D, I]. */
  gate: Tensor;
  up: Tensor;
  down: Tensor;
}

export interface MoeWeights {
  /** router [E, D], routerBias [E] (e_score_correction_bias: selection only). */
  router: Tensor;
  routerBias: Tensor;
  /** Stacked experts: gate, up [E, I, D]; down [E, D, I]. */
  expertsGate: Tensor;
  expertsUp: Tensor;
  expertsDown: Tensor;
  shared: SwiGluWeights;
}

export function swiGlu(k: Kernels, w: SwiGluWeights, x: Tensor): Tensor {
  const g = k.matmul(x, w.gate); // [T, I]
  const u = k.matmul(x, w.up); // [T, I]
  const h = k.siluMul(g, u); // [T, I]
  const y = k.matmul(h, w.down); // [T, D]
  k.release(g, u, h);
  return y;
}

export function moeForward(k: Kernels, w: MoeWeights, router: RouterConfig, x: Tensor): Tensor {
  const { ids, weights } = k.moeRoute(x, w.router, w.routerBias, router); // [T, A] u32, [T, A]
  const routed = k.moeExperts(x, ids, weights, w.expertsGate, w.expertsUp, w.expertsDown); // [T, D]
  const shared = swiGlu(k, w.shared, x); // [T, D]
  const y = k.add(routed, shared); // [T, D]
  k.release(ids, weights, routed, shared);
  return y;
}
