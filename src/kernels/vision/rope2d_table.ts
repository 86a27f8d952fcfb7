// Per-token cos/sin of MoonViT's 2D RoPE, built on the CPU for both backends: WGSL sin/cos of angles up
// to ~511 rad are not accurate enough (spec §7.3). Mirrors torch's float32 steps with Math.fround:
// freqs = 1/θ^(arange(0,d,4)/d), angle = fround(pos·freq), cos/sin rounded to f32.
import { KimiVLError } from '../../errors.ts';
import type { Grid } from '../types.ts';
import { totalPatches } from './grids.ts';

/** freq_i = 1/θ^(4i/d) for i < d/4, each step rounded to f32 as torch computes it. */
export function rope2dFreqs(headDim: number, theta: number): Float32Array {
  if (headDim % 4 !== 0)
    throw new KimiVLError('ShapeError', `rope2d: head_dim ${headDim} must be a multiple of 4`);
  const f = Math.fround;
  const freqs = new Float32Array(headDim / 4);
  for (let i = 0; i < freqs.length; i++) freqs[i] = f(1 / f(f(theta) ** f((4 * i) / headDim)));
  return freqs;
}

/**
 * cos/sin [L, d/2]: complex slot j = 2i uses the column (width) position c, slot 2i+1 the row r
 * (the official code's layout, not its docstring). Positions restart at 0 for each image.
 */
export function rope2dTable(
  grids: readonly Grid[],
  headDim: number,
  theta: number,
): { cos: Float32Array; sin: Float32Array } {
  const freqs = rope2dFreqs(headDim, theta);
  const half = headDim / 2;
  const n = totalPatches(grids);
  const cos = new Float32Array(n * half);
  const sin = new Float32Array(n * half);
  let t = 0;
  for (const g of grids) {
    for (let r = 0; r < g.h; r++) {
      for (let c = 0; c < g.w; c++, t++) {
        for (let i = 0; i < freqs.length; i++) {
          const aCol = Math.fround(c * freqs[i]!);
          const aRow = Math.fround(r * freqs[i]!);
          cos[t * half + 2 * i] = Math.cos(aCol);
          sin[t * half + 2 * i] = Math.sin(aCol);
          cos[t * half + 2 * i + 1] = Math.cos(aRow);
          sin[t * half + 2 * i + 1] = Math.sin(aRow);
        }
      }
    }
  }
  return { cos, sin };
}
