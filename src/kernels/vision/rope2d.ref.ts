// 2D RoPE on the q and k thirds of a packed qkv [L, 3·H·d] (v copied unchanged), spec §7.3:
// pairs (x[2j], x[2j+1]) of every head are complex numbers multiplied by cis(angle[t, j]).
import type { Grid } from '../types.ts';
import { rope2dTable } from './rope2d_table.ts';

export function rope2dRef(
  qkv: Float32Array,
  grids: readonly Grid[],
  heads: number,
  headDim: number,
  theta: number,
): Float32Array {
  const { cos, sin } = rope2dTable(grids, headDim, theta);
  const half = headDim / 2;
  const width = 3 * heads * headDim;
  const rows = qkv.length / width;
  const out = qkv.slice();
  for (let t = 0; t < rows; t++) {
    // q occupies heads [0, H), k heads [H, 2H) of the row.
    for (let h = 0; h < 2 * heads; h++) {
      const o = t * width + h * headDim;
      for (let j = 0; j < half; j++) {
        const a = qkv[o + 2 * j]!;
        const b = qkv[o + 2 * j + 1]!;
        const cs = cos[t * half + j]!;
        const sn = sin[t * half + j]!;
        out[o + 2 * j] = a * cs - b * sn;
        out[o + 2 * j + 1] = a * sn + b * cs;
      }
    }
  }
  return out;
}
