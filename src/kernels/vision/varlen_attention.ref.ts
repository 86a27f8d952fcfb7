// Block-diagonal (per image) bidirectional attention over a packed qkv [L, 3·H·d] → [L, H·d],
// softmax scale 1/√d, f64 accumulation (spec §7.4–7.5: a token attends only to its own image).
import type { Grid } from '../types.ts';
import { patchOffsets } from './grids.ts';

export function varlenAttentionRef(
  qkv: Float32Array,
  grids: readonly Grid[],
  heads: number,
  headDim: number,
): Float32Array {
  const dModel = heads * headDim;
  const width = 3 * dModel;
  const offsets = patchOffsets(grids);
  const out = new Float32Array(offsets[offsets.length - 1]! * dModel);
  const scale = 1 / Math.sqrt(headDim);
  const acc = new Float64Array(headDim);
  for (let img = 0; img < grids.length; img++) {
    const start = offsets[img]!;
    const end = offsets[img + 1]!;
    const p = new Float64Array(end - start);
    for (let h = 0; h < heads; h++) {
      for (let i = start; i < end; i++) {
        const qo = i * width + h * headDim;
        let max = Number.NEGATIVE_INFINITY;
        for (let j = start; j < end; j++) {
          const ko = j * width + dModel + h * headDim;
          let s = 0;
          for (let e = 0; e < headDim; e++) s += qkv[qo + e]! * qkv[ko + e]!;
          p[j - start] = s * scale;
          max = Math.max(max, s * scale);
        }
        let sum = 0;
        for (let j = 0; j < p.length; j++) {
          p[j] = Math.exp(p[j]! - max);
          sum += p[j]!;
        }
        acc.fill(0);
        for (let j = start; j < end; j++) {
          const vo = j * width + 2 * dModel + h * headDim;
          const pj = p[j - start]! / sum;
          for (let e = 0; e < headDim; e++) acc[e]! += pj * qkv[vo + e]!;
        }
        out.set(acc, i * dModel + h * headDim);
      }
    }
  }
  return out;
}
