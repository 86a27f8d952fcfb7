// 2×2 patch merge (spec §8.1) with the projector's per-slot LayerNorm (§8.2) folded in: source patch
// (r, c) of an image lands in merged token (r/2)·(w/2) + c/2, slot 2·(r%2) + c%2 (TL, TR, BL, BR).

import { layerNormRef } from '../core/norm.ref.ts';
import type { Grid } from '../types.ts';
import { patchOffsets } from './grids.ts';

/** For each output row of the [Σhw/4 · 4, D] view (merged token · 4 + slot): the source patch row. */
export function mergeSourceRows(grids: readonly Grid[]): Uint32Array {
  const offsets = patchOffsets(grids);
  const src = new Uint32Array(offsets[offsets.length - 1]!);
  grids.forEach((g, img) => {
    const base = offsets[img]!;
    for (let r = 0; r < g.h; r++) {
      for (let c = 0; c < g.w; c++) {
        const merged = (r >> 1) * (g.w >> 1) + (c >> 1);
        const slot = 2 * (r & 1) + (c & 1);
        src[base + merged * 4 + slot] = base + r * g.w + c;
      }
    }
  });
  return src;
}

export function patchMergeLayerNormRef(
  x: Float32Array,
  d: number,
  grids: readonly Grid[],
  w: Float32Array,
  b: Float32Array,
  eps: number,
): Float32Array {
  const src = mergeSourceRows(grids);
  const gathered = new Float32Array(src.length * d);
  src.forEach((s, i) => {
    gathered.set(x.subarray(s * d, (s + 1) * d), i * d);
  });
  return layerNormRef(gathered, w, b, src.length, d, eps);
}
