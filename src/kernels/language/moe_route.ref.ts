// noaux_tc sigmoid router of DeepSeek-V3 (spec §9.5, golden README "MoE"):
//   s = sigmoid(x·Wgᵀ); choice = s + bias (selection only)
//   group score = sum of the top-2 choices per group; keep topk_group groups, the rest masked with 0.0
//   ids = top-k of masked choice (ties → lower id); w = s[ids] / (Σ + 1e-20) when normTopkProb; w ·= scale
// Ids come out in descending choice order.
import type { RouterConfig } from '../types.ts';

/** Indices of the k largest values, largest first, ties → lower index. */
export function topKIndices(v: ArrayLike<number>, k: number): number[] {
  const idx = Array.from({ length: v.length }, (_, i) => i);
  idx.sort((a, b) => v[b]! - v[a]! || a - b);
  return idx.slice(0, k);
}

/** Routes one token from its sigmoid scores; returns ids and weights. */
export function routeScores(s: ArrayLike<number>, bias: ArrayLike<number>, cfg: RouterConfig) {
  const E = s.length;
  const choice = new Float64Array(E);
  for (let e = 0; e < E; e++) choice[e] = s[e]! + bias[e]!;
  if (cfg.nGroup > 1) {
    const per = E / cfg.nGroup;
    const groupScore = new Float64Array(cfg.nGroup);
    for (let g = 0; g < cfg.nGroup; g++) {
      const [a, b] = topKIndices(choice.subarray(g * per, (g + 1) * per), 2);
      groupScore[g] = choice[g * per + a!]! + choice[g * per + b!]!;
    }
    const keep = new Set(topKIndices(groupScore, cfg.topkGroup));
    for (let e = 0; e < E; e++) if (!keep.has(Math.floor(e / per))) choice[e] = 0;
  }
  const ids = topKIndices(choice, cfg.topK);
  const w = ids.map((e) => s[e]!);
  if (cfg.topK > 1 && cfg.normTopkProb) {
    const sum = w.reduce((a, b) => a + b, 0) + 1e-20;
    for (let i = 0; i < w.length; i++) w[i] = w[i]! / sum;
  }
  return { ids, weights: w.map((x) => x * cfg.routedScalingFactor) };
}

export function moeRouteRef(
  x: Float32Array,
  gate: Float32Array,
  bias: Float32Array,
  rows: number,
  d: number,
  cfg: RouterConfig,
): { ids: Uint32Array; weights: Float32Array } {
  const E = bias.length;
  const ids = new Uint32Array(rows * cfg.topK);
  const weights = new Float32Array(rows * cfg.topK);
  const s = new Float64Array(E);
  for (let t = 0; t < rows; t++) {
    for (let e = 0; e < E; e++) {
      let acc = 0;
      for (let i = 0; i < d; i++) acc += x[t * d + i]! * gate[e * d + i]!;
      // round the logit to f32 as the reference and the GPU both hold it in f32
      s[e] = 1 / (1 + Math.exp(-Math.fround(acc)));
    }
    const r = routeScores(s, bias, cfg);
    ids.set(r.ids, t * cfg.topK);
    weights.set(r.weights, t * cfg.topK);
  }
  return { ids, weights };
}
