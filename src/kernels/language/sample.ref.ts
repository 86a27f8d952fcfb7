// Token sampler, written so the GPU kernel (shaders/sample.wgsl) can follow it step by step:
//   1. repetition penalty on each distinct id of `history` (HF: l > 0 ? l / p : l · p)
//   2. temperature 0 → argmax (ties → lowest id)
//   3. z = l / T; softmax weights e_i = exp(z_i − max z)
//   4. top-k: keep z_i ≥ τ_k, τ_k = the k-th largest z (ties at the threshold are all kept)
//   5. top-p: keep i when the mass of kept tokens strictly more likely than i is < topP · (kept mass)
//      (the nucleus: smallest set of most likely tokens reaching topP; always keeps the top token)
//   6. u = uniformForStep(seed, step); pick the first kept id (in id order) whose running mass > u · total
// Thresholds are searched over f32 bit patterns, which order like the values for z ≥ 0 after shifting.
import type { SamplingParams } from '../types.ts';
import { uniformForStep } from './rng.ts';

export function applyRepetitionPenalty(
  logits: Float32Array,
  history: ArrayLike<number>,
  penalty: number,
): Float32Array {
  const l = new Float32Array(logits);
  if (penalty === 1) return l;
  const seen = new Set<number>();
  for (let i = 0; i < history.length; i++) {
    const id = history[i]!;
    if (id >= l.length || seen.has(id)) continue;
    seen.add(id);
    const v = logits[id]!;
    l[id] = v > 0 ? v / penalty : v * penalty;
  }
  return l;
}

export function argmaxRef(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}

/** Which ids survive top-k and top-p, given weights e (softmax numerators, any positive scale). */
export function nucleusMask(e: Float64Array, topK: number, topP: number): Uint8Array {
  const V = e.length;
  const keep = new Uint8Array(V).fill(1);
  if (topK > 0 && topK < V) {
    const kth = Float64Array.from(e).sort().reverse()[topK - 1]!;
    for (let i = 0; i < V; i++) if (e[i]! < kth) keep[i] = 0;
  }
  if (topP > 0 && topP < 1) {
    // mass strictly above each kept weight, via a descending sort of the kept weights
    const order = Array.from({ length: V }, (_, i) => i).filter((i) => keep[i]);
    order.sort((a, b) => e[b]! - e[a]!);
    let total = 0;
    for (const i of order) total += e[i]!;
    let above = 0;
    let j = 0;
    while (j < order.length) {
      // tokens of equal weight share the same "mass strictly above"
      let k = j;
      let tie = 0;
      while (k < order.length && e[order[k]!]! === e[order[j]!]!) tie += e[order[k++]!]!;
      const drop = above >= topP * total;
      for (let m = j; m < k; m++) if (drop) keep[order[m]!] = 0;
      above += tie;
      j = k;
    }
  }
  return keep;
}

export function sampleRef(
  logits: Float32Array,
  history: ArrayLike<number> | null,
  p: SamplingParams,
  step: number,
): number {
  const l = applyRepetitionPenalty(logits, history ?? [], p.repetitionPenalty);
  if (p.temperature <= 0 || p.topK === 1) return argmaxRef(l);
  const V = l.length;
  let mx = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < V; i++) mx = Math.max(mx, l[i]!);
  const e = new Float64Array(V);
  for (let i = 0; i < V; i++) e[i] = Math.exp((l[i]! - mx) / p.temperature);
  const keep = nucleusMask(e, p.topK, p.topP);
  let total = 0;
  for (let i = 0; i < V; i++) if (keep[i]) total += e[i]!;
  const target = uniformForStep(p.seed, step) * total;
  let run = 0;
  let last = 0;
  for (let i = 0; i < V; i++) {
    if (!keep[i]) continue;
    run += e[i]!;
    last = i;
    if (run > target) return i;
  }
  return last;
}
