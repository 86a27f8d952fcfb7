// Per-image bookkeeping shared by the vision refs and GPU wrappers: images are packed one after another
// (spec §7.5), so every per-image op needs each image's first patch row (cu_seqlens).
import { KimiVLError } from '../../errors.ts';
import type { Grid } from '../types.ts';

/** cu_seqlens: offsets[i] = first patch row of image i; offsets[n] = L. */
export function patchOffsets(grids: readonly Grid[]): number[] {
  const out = [0];
  for (const g of grids) out.push(out[out.length - 1]! + g.h * g.w);
  return out;
}

export function totalPatches(grids: readonly Grid[]): number {
  return grids.reduce((s, g) => s + g.h * g.w, 0);
}

/** Stable cache key for a list of grids ("6x4,8x10"). */
export function gridsKey(grids: readonly Grid[]): string {
  return grids.map((g) => `${g.h}x${g.w}`).join(',');
}

export function checkGrids(grids: readonly Grid[], op: string, opts: { even?: boolean } = {}): void {
  if (grids.length === 0) throw new KimiVLError('ShapeError', `${op}: no images (grids is empty)`);
  for (const g of grids) {
    const ok = Number.isInteger(g.h) && Number.isInteger(g.w) && g.h > 0 && g.w > 0;
    if (!ok || (opts.even && (g.h % 2 !== 0 || g.w % 2 !== 0))) {
      const need = opts.even ? 'positive even integers (2×2 merge)' : 'positive integers';
      throw new KimiVLError('ShapeError', `${op}: grid ${g.h}×${g.w} must be ${need}`);
    }
  }
}
