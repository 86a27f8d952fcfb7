// Learned 2D position table resized to each image's grid exactly like
// torch F.interpolate(mode="bicubic", align_corners=False) (spec §7.2): per axis
// src = (in/out)·(dst + 0.5) − 0.5 (not clamped), taps floor(src)−1 … floor(src)+2 clamped to the
// edge, Keys cubic weights with A = −0.75; x (width) first for each of the 4 source rows, then y.

import type { Grid } from '../types.ts';
import { patchOffsets, totalPatches } from './grids.ts';

const A = -0.75;

/** The 4 cubic-convolution weights for fractional offset t ∈ [0, 1) (ATen upsample cubic helpers). */
export function cubicWeights(t: number): [number, number, number, number] {
  const x1 = t + 1;
  const x2 = 1 - t;
  const x3 = 2 - t;
  return [
    ((A * x1 - 5 * A) * x1 + 8 * A) * x1 - 4 * A,
    ((A + 2) * t - (A + 3)) * t * t + 1,
    ((A + 2) * x2 - (A + 3)) * x2 * x2 + 1,
    ((A * x3 - 5 * A) * x3 + 8 * A) * x3 - 4 * A,
  ];
}

/** Source taps (clamped) and weights for output index `dst` of an axis resized in → out. */
export function cubicTaps(inSize: number, outSize: number, dst: number): { idx: number[]; wt: number[] } {
  const src = (inSize / outSize) * (dst + 0.5) - 0.5;
  const i0 = Math.floor(src);
  const wt = cubicWeights(src - i0);
  const idx = [-1, 0, 1, 2].map((o) => Math.min(Math.max(i0 + o, 0), inSize - 1));
  return { idx, wt };
}

/** table [h0, w0, d] (height first) → [Σ h·w, d], images in order, rows row-major over each grid. */
export function posEmbInterpRef(
  table: Float32Array,
  h0: number,
  w0: number,
  d: number,
  grids: readonly Grid[],
): Float32Array {
  const out = new Float32Array(totalPatches(grids) * d);
  const offsets = patchOffsets(grids);
  const acc = new Float64Array(d);
  const rowAcc = new Float64Array(d);
  grids.forEach((g, img) => {
    const ys = Array.from({ length: g.h }, (_, r) => cubicTaps(h0, g.h, r));
    const xs = Array.from({ length: g.w }, (_, c) => cubicTaps(w0, g.w, c));
    for (let r = 0; r < g.h; r++) {
      for (let c = 0; c < g.w; c++) {
        acc.fill(0);
        for (let a = 0; a < 4; a++) {
          rowAcc.fill(0);
          for (let b = 0; b < 4; b++) {
            const base = (ys[r]!.idx[a]! * w0 + xs[c]!.idx[b]!) * d;
            const wx = xs[c]!.wt[b]!;
            for (let e = 0; e < d; e++) rowAcc[e]! += wx * table[base + e]!;
          }
          const wy = ys[r]!.wt[a]!;
          for (let e = 0; e < d; e++) acc[e]! += wy * rowAcc[e]!;
        }
        out.set(acc, (offsets[img]! + r * g.w + c) * d);
      }
    }
  });
  return out;
}
