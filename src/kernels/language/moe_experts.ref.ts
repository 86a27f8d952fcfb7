// Routed SwiGLU experts: y_t = Σ_a w[t,a] · down_e(silu(gate_e x_t) ⊙ up_e x_t), e = ids[t,a].
// gate, up [E,I,D]; down [E,D,I]; f64 accumulation, hidden rounded to f32 like every activation.
// `stage` models kernels that stage their operands in lower precision (the tiled GEMM's f16 tiles): it is
// applied to x and the hidden h where they are read (the weights are passed in already rounded).
// `addend` [T, D] (the shared experts' output) is added to the weighted sum before the one rounding.
export function moeExpertsRef(
  x: Float32Array,
  ids: Uint32Array,
  weights: Float32Array,
  gate: Float32Array,
  up: Float32Array,
  down: Float32Array,
  rows: number,
  topK: number,
  d: number,
  inter: number,
  stage: (v: number) => number = (v) => v,
  addend?: Float32Array,
): Float32Array {
  const y = new Float32Array(rows * d);
  const h = new Float32Array(inter);
  const acc = new Float64Array(d);
  const xs = x.map(stage);
  for (let t = 0; t < rows; t++) {
    acc.fill(0);
    const xo = t * d;
    for (let a = 0; a < topK; a++) {
      const e = ids[t * topK + a]!;
      const w = weights[t * topK + a]!;
      for (let j = 0; j < inter; j++) {
        const ro = (e * inter + j) * d;
        let g = 0;
        let u = 0;
        for (let i = 0; i < d; i++) {
          g += xs[xo + i]! * gate[ro + i]!;
          u += xs[xo + i]! * up[ro + i]!;
        }
        const gf = Math.fround(g);
        h[j] = stage((gf / (1 + Math.exp(-gf))) * Math.fround(u));
      }
      for (let i = 0; i < d; i++) {
        const ro = (e * d + i) * inter;
        let o = 0;
        for (let j = 0; j < inter; j++) o += h[j]! * down[ro + j]!;
        acc[i]! += w * Math.fround(o);
      }
    }
    for (let i = 0; i < d; i++) y[xo + i] = acc[i]! + (addend?.[xo + i] ?? 0);
  }
  return y;
}
