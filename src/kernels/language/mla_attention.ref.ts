// Weight-absorbed MLA over the latent cache (spec §9.4), f64 accumulation:
//   q_lat[h] = W_UK[h]ᵀ q_nope[h]          W_UK[h] = kvB rows h·(nope+v) .. +nope
//   s[h,j]   = scale·(q_lat[h]·c[j] + q_pe[h]·k_pe[j]),  j ≤ pos0 + t (causal)
//   o_lat[h] = Σ_j softmax(s[h])_j c[j];  o[h] = W_UV[h] o_lat[h]   W_UV[h] = next v rows
import type { MlaDims } from '../types.ts';

export function mlaAttentionRef(
  q: Float32Array,
  kvB: Float32Array,
  cache: Float32Array,
  rows: number,
  pos0: number,
  d: MlaDims,
): Float32Array {
  const { heads: H, qkNope: N, qkRope: P, v: V, kvRank: R, scale } = d;
  const qw = N + P;
  const cw = R + P;
  const out = new Float32Array(rows * H * V);
  const qLat = new Float64Array(R);
  const oLat = new Float64Array(R);
  for (let t = 0; t < rows; t++) {
    const n = pos0 + t + 1; // visible cache rows
    const s = new Float64Array(n);
    for (let h = 0; h < H; h++) {
      const qo = t * H * qw + h * qw;
      const wo = h * (N + V) * R;
      qLat.fill(0);
      for (let i = 0; i < N; i++) {
        const qi = q[qo + i]!;
        for (let r = 0; r < R; r++) qLat[r]! += qi * kvB[wo + i * R + r]!;
      }
      let mx = Number.NEGATIVE_INFINITY;
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let r = 0; r < R; r++) acc += qLat[r]! * cache[j * cw + r]!;
        for (let p = 0; p < P; p++) acc += q[qo + N + p]! * cache[j * cw + R + p]!;
        s[j] = acc * scale;
        mx = Math.max(mx, s[j]!);
      }
      let den = 0;
      for (let j = 0; j < n; j++) {
        s[j] = Math.exp(s[j]! - mx);
        den += s[j]!;
      }
      oLat.fill(0);
      for (let j = 0; j < n; j++) {
        const p = s[j]! / den;
        for (let r = 0; r < R; r++) oLat[r]! += p * cache[j * cw + r]!;
      }
      for (let i = 0; i < V; i++) {
        const row = wo + (N + i) * R;
        let acc = 0;
        for (let r = 0; r < R; r++) acc += kvB[row + r]! * oLat[r]!;
        out[t * H * V + h * V + i] = acc;
      }
    }
  }
  return out;
}
