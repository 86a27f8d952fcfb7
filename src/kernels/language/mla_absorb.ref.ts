// Reference of the absorb pass without q rope (mla_absorb.ts): qcat[t, h] = [W_UK[h]ᵀ q_nope | q_pe],
// W_UK[h] = rows h·(N+V) .. +N of kv_b [H·(N+V), R] (f32 values), accumulated in f64.
import type { MlaDims } from '../types.ts';

export function mlaAbsorbRef(q: Float32Array, kvB: Float32Array, T: number, d: MlaDims): Float32Array {
  const { heads: H, qkNope: N, qkRope: P, v: V, kvRank: R } = d;
  const out = new Float32Array(T * H * (R + P));
  for (let th = 0; th < T * H; th++) {
    const h = th % H;
    const qo = th * (N + P);
    const e0 = th * (R + P);
    for (let r = 0; r < R; r++) {
      let acc = 0;
      for (let n = 0; n < N; n++) acc += q[qo + n]! * kvB[(h * (N + V) + n) * R + r]!;
      out[e0 + r] = acc;
    }
    for (let p = 0; p < P; p++) out[e0 + R + p] = q[qo + N + p]!;
  }
  return out;
}
