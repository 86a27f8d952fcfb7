// The GEMV's fusions composed from the unfused oracles: rmsNormRef for the norm prologue, matmulRef (f64
// accumulation) for the product, then the residual add. This is the oracle of every gemv variant; the
// plain GEMV is matmulRef at M = 1.
import type { RmsNormWeight } from '../types.ts';
import { matmulRef } from './matmul.ref.ts';
import { rmsNormRef } from './norm.ref.ts';

export interface GemvRefFusion {
  bias?: Float32Array;
  norm?: RmsNormWeight<Float32Array>;
  residual?: Float32Array;
}

/** y[N] = (x or rmsNorm(x, nw, eps)) · w[N,K]ᵀ (+ bias) (+ residual), x [K]. */
export function gemvRef(x: Float32Array, w: Float32Array, k: number, n: number, f: GemvRefFusion = {}) {
  const xin = f.norm ? rmsNormRef(x, f.norm.weight, 1, k, f.norm.eps) : x;
  const y = matmulRef(xin, w, 1, k, n, f.bias);
  if (f.residual) for (let i = 0; i < n; i++) y[i] = y[i]! + f.residual[i]!;
  return y;
}
