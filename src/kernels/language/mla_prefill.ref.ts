// MLA in the non-absorbed form (spec §9.3), f64 accumulation: decompress every visible latent row per
// head, then causal softmax attention. The same function as mlaAttentionRef (the absorbed form), reached
// by the other association of the products:
//   k_nope[j,h] = W_UK[h] c[j],  v[j,h] = W_UV[h] c[j]     W_UK[h], W_UV[h]: kvB rows h·(N+V) .., +N ..
//   s[t,h,j] = scale·(q_nope[t,h]·k_nope[j,h] + q_pe[t,h]·k_pe[j]),  j ≤ pos0 + t
//   o[t,h]   = Σ_j softmax(s[t,h])_j v[j,h]
import type { MlaDims } from '../types.ts';

/** q [rows, H·(N+P)], kvB [H·(N+V), R], cache [≥ pos0+rows, R+P] → [rows, H·V]. */
export function mlaPrefillRef(
  q: Float32Array,
  kvB: Float32Array,
  cache: Float32Array,
  rows: number,
  pos0: number,
  d: MlaDims,
): Float32Array {
  const { heads: H, qkNope: N, qkRope: P, v: V, kvRank: R, scale } = d;
  const n = pos0 + rows;
  const cw = R + P;
  // kv[j, h, i]: i < N k_nope, N ≤ i < N+V v (the rows of kvB in order)
  const kv = new Float64Array(n * H * (N + V));
  for (let j = 0; j < n; j++)
    for (let row = 0; row < H * (N + V); row++) {
      let acc = 0;
      for (let r = 0; r < R; r++) acc += kvB[row * R + r]! * cache[j * cw + r]!;
      kv[j * H * (N + V) + row] = acc;
    }
  const out = new Float32Array(rows * H * V);
  const o = new Float64Array(V);
  for (let t = 0; t < rows; t++) {
    const visible = pos0 + t + 1;
    const s = new Float64Array(visible);
    for (let h = 0; h < H; h++) {
      const qo = (t * H + h) * (N + P);
      let mx = Number.NEGATIVE_INFINITY;
      for (let j = 0; j < visible; j++) {
        const ko = (j * H + h) * (N + V);
        let acc = 0;
        for (let i = 0; i < N; i++) acc += q[qo + i]! * kv[ko + i]!;
        for (let p = 0; p < P; p++) acc += q[qo + N + p]! * cache[j * cw + R + p]!;
        s[j] = acc * scale;
        mx = Math.max(mx, s[j]!);
      }
      let den = 0;
      for (let j = 0; j < visible; j++) {
        s[j] = Math.exp(s[j]! - mx);
        den += s[j]!;
      }
      o.fill(0);
      for (let j = 0; j < visible; j++) {
        const p = s[j]! / den;
        const vo = (j * H + h) * (N + V) + N;
        for (let i = 0; i < V; i++) o[i]! += p * kv[vo + i]!;
      }
      for (let i = 0; i < V; i++) out[(t * H + h) * V + i] = o[i]!;
    }
  }
  return out;
}
