// The dual GEMVs (gemv_dual.ts) composed from the unfused oracles: gemvRef (rmsNormRef + matmulRef, f64
// accumulation) per weight, then siluMulRef for the SwiGLU product.
import { siluMulRef } from './elementwise.ref.ts';
import { type GemvRefFusion, gemvRef } from './gemv.ref.ts';

type Norm = GemvRefFusion['norm'];

/** [x'·waᵀ [Na], x'·wbᵀ [Nb]], x' = x or rmsNorm(x), x [K]. */
export function gemvPairRef(x: Float32Array, wa: Float32Array, wb: Float32Array, K: number, norm: Norm) {
  const f = norm ? { norm } : {};
  return [gemvRef(x, wa, K, wa.length / K, f), gemvRef(x, wb, K, wb.length / K, f)] as const;
}

/** silu(x'·gateᵀ) · (x'·upᵀ) [I], x' = x or rmsNorm(x), x [K], gate and up [I, K]. */
export function gemvGluRef(x: Float32Array, gate: Float32Array, up: Float32Array, K: number, norm: Norm) {
  const [g, u] = gemvPairRef(x, gate, up, K, norm);
  return siluMulRef(g, u);
}
