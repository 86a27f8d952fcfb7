// The MoE block of one token with its residual (the oracle of moe_decode.ts):
//   y = res + Σ_a w[a] · down_e(silu(gate_e x) ⊙ up_e x)  +  sdown(silu(sgate x) ⊙ sup x),  e = ids[a]
// gate, up [E,I,D]; down [E,D,I]; sgate, sup [IS,D]; sdown [D,IS] (IS = n_shared · I, the shared experts as
// one SwiGLU, spec §9.5). w carries norm_topk_prob and routed_scaling_factor already (moe_route.ref.ts).
// f64 accumulation; every activation the GPU holds in f32 (projections, silu·mul, expert outputs) is
// rounded to f32 where the GPU rounds it.

export interface MoeDecodeRefWeights {
  gate: Float32Array;
  up: Float32Array;
  down: Float32Array;
  sharedGate: Float32Array;
  sharedUp: Float32Array;
  sharedDown: Float32Array;
}

/** silu(Wg x) ⊙ (Wu x) for `rows` rows of [rows, d] weights starting at row `row0`. */
function swigluHidden(
  x: Float32Array,
  g: Float32Array,
  u: Float32Array,
  row0: number,
  rows: number,
  d: number,
) {
  const h = new Float32Array(rows);
  for (let j = 0; j < rows; j++) {
    const o = (row0 + j) * d;
    let gs = 0;
    let us = 0;
    for (let i = 0; i < d; i++) {
      gs += x[i]! * g[o + i]!;
      us += x[i]! * u[o + i]!;
    }
    const gf = Math.fround(gs);
    h[j] = (gf / (1 + Math.exp(-gf))) * Math.fround(us);
  }
  return h;
}

export function moeDecodeRef(
  x: Float32Array,
  ids: Uint32Array,
  weights: Float32Array,
  w: MoeDecodeRefWeights,
  residual: Float32Array,
  d: number,
  inter: number,
  sharedInter: number,
): Float32Array {
  const acc = Float64Array.from(residual.subarray(0, d));
  ids.forEach((e, a) => {
    const h = swigluHidden(x, w.gate, w.up, e * inter, inter, d);
    for (let i = 0; i < d; i++) {
      const o = (e * d + i) * inter;
      let s = 0;
      for (let j = 0; j < inter; j++) s += h[j]! * w.down[o + j]!;
      acc[i]! += weights[a]! * s;
    }
  });
  if (sharedInter > 0) {
    const h = swigluHidden(x, w.sharedGate, w.sharedUp, 0, sharedInter, d);
    for (let i = 0; i < d; i++) {
      let s = 0;
      for (let j = 0; j < sharedInter; j++) s += h[j]! * w.sharedDown[i * sharedInter + j]!;
      acc[i]! += s;
    }
  }
  return Float32Array.from(acc);
}
