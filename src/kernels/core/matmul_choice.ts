// Which M > 1 kernel rt.tuning.matmul = 'auto' runs (the default on CPU adapters such as SwiftShader):
// the tiled GEMM once a shape has enough rows to pay for its barriers, matmul_direct (no barriers) below.
// The thresholds are same-run SwiftShader timings (2 cores, real widths 2048→1408 and 1152→4304/1152,
// the tile autoTile picks on a CPU adapter: 128×128 beyond 64 rows):
//   q4/q8:    tiled 0.65× direct at M = 16, ~1.0× at 24, 1.2–1.3× at 32, 2.5× at 128 → tiled from M = 32
//   f16/bf16: tiled 0.85–0.9× at M = 32–64, 1.3× at 96, 1.75× at 128               → tiled from M = 65
//   f32:      tiled 0.6–0.75× at M = 32–256 (element-wise weight loads)              → always direct
// Dequantising a q4/q8 block costs direct every use but the tiled GEMM once per tile, so quantised
// weights cross over first.
import type { WeightDType } from '../../tensor/types.ts';

export type MatmulKind = 'tiled' | 'direct' | 'classic';

/** Smallest M at which 'auto' takes the tiled GEMM, per weight storage form. */
export const AUTO_TILED_FROM: Readonly<Record<WeightDType, number>> = {
  q4: 32,
  q8: 32,
  f16: 65,
  bf16: 65,
  f32: Number.POSITIVE_INFINITY,
};

/** The kernel an M-row product with weights stored as `dtype` runs under `setting`. */
export function matmulKind(setting: MatmulKind | 'auto', M: number, dtype: WeightDType): MatmulKind {
  if (setting !== 'auto') return setting;
  return M >= AUTO_TILED_FROM[dtype] ? 'tiled' : 'direct';
}
