// Which M > 1 kernel rt.tuning.matmul = 'auto' runs (the default on CPU adapters such as SwiftShader):
// the tiled GEMM once a shape has enough rows to pay for its barriers, matmul_direct (no barriers) below.
// The thresholds are same-run SwiftShader timings (2 cores, 2048→2048 and 1152→1152, the tiled GEMM as a
// CPU adapter tunes it: few lanes, 32×128 tiles to 32 rows, 64×64 to 64, 128×128 beyond):
//   q4/q8:    tiled 0.66× direct at M = 8, 0.95× at 12, 1.3–1.4× at 16, 1.9× at 24 → tiled from M = 16
//   f16/bf16: tiled 1.0× at M = 16–24, 1.9× at 32                                 → tiled from M = 24
//   f32:      tiled 0.8–0.85× at M = 32–48, ~1.0× at 64–96, 1.35× at 128          → tiled from M = 128
// Dequantising a q4/q8 block costs direct every use but the tiled GEMM once per tile, so quantised
// weights cross over first.
import type { WeightDType } from '../../tensor/types.ts';

export type MatmulKind = 'tiled' | 'direct' | 'classic';

/** Smallest M at which 'auto' takes the tiled GEMM, per weight storage form. */
export const AUTO_TILED_FROM: Readonly<Record<WeightDType, number>> = {
  q4: 16,
  q8: 16,
  f16: 24,
  bf16: 24,
  f32: 128,
};

/** The kernel an M-row product with weights stored as `dtype` runs under `setting`. */
export function matmulKind(setting: MatmulKind | 'auto', M: number, dtype: WeightDType): MatmulKind {
  if (setting !== 'auto') return setting;
  return M >= AUTO_TILED_FROM[dtype] ? 'tiled' : 'direct';
}
