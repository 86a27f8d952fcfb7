// The shape rule of each vision op, called by both backends (ref_vision_ops.ts and the GPU wrappers) so
// they refuse the same inputs with the same messages. Each returns the sizes the op needs.
import type { Tensor } from '../../tensor/types.ts';
import { checkShape, numel } from '../shape_check.ts';
import type { Grid, GridRows } from '../types.ts';
import { checkGrids, totalPatches } from './grids.ts';

export function posEmbInterpShapes(
  table: Tensor,
  grids: readonly Grid[],
  gridRows?: GridRows,
): { h0: number; w0: number; d: number; L: number } {
  checkGrids(grids, 'posEmbInterp');
  checkShape(table.shape.length === 3, 'posEmbInterp', `table must be [H0, W0, D], got [${table.shape}]`);
  const [h0, w0, d] = table.shape as [number, number, number];
  if (!gridRows) return { h0, w0, d, L: totalPatches(grids) };
  const g = grids[0]!;
  checkShape(
    grids.length === 1 &&
      Number.isInteger(gridRows.start) &&
      Number.isInteger(gridRows.count) &&
      gridRows.start >= 0 &&
      gridRows.count > 0 &&
      gridRows.start + gridRows.count <= g.h,
    'posEmbInterp',
    `grid rows ${gridRows.start}+${gridRows.count} need one grid and lie within its ${g.h} rows`,
  );
  return { h0, w0, d, L: gridRows.count * g.w };
}

/** A packed qkv [L, 3·H·d] of images laid out by `grids` (what rope2d and varlenAttention take). */
export interface PackedQkv<T extends Tensor = Tensor> {
  qkv: T;
  grids: readonly Grid[];
  heads: number;
  headDim: number;
}

/** Checks a packed qkv [L, 3·H·d] against the grids. */
export function qkvShapes(
  op: string,
  qkv: Tensor,
  grids: readonly Grid[],
  heads: number,
  headDim: number,
): { L: number; dModel: number } {
  checkGrids(grids, op);
  const L = totalPatches(grids);
  const dModel = heads * headDim;
  checkShape(qkv.dtype === 'f32', op, `qkv must be f32, got ${qkv.dtype}`);
  checkShape(
    qkv.shape.length === 2 && qkv.shape[0] === L && qkv.shape[1] === 3 * dModel,
    op,
    `qkv [${qkv.shape}] must be [${L}, ${3 * dModel}] (L = Σ h·w, 3·heads·headDim)`,
  );
  checkShape(headDim % 2 === 0, op, `headDim ${headDim} must be even`);
  return { L, dModel };
}

export function patchMergeShapes(
  x: Tensor,
  grids: readonly Grid[],
  w: Tensor,
  b: Tensor,
): { L: number; d: number } {
  checkGrids(grids, 'patchMergeLayerNorm', { even: true });
  const L = totalPatches(grids);
  checkShape(
    x.shape.length === 2 && x.shape[0] === L,
    'patchMergeLayerNorm',
    `x [${x.shape}] must have ${L} rows`,
  );
  const d = x.shape[1]!;
  checkShape(
    numel(w.shape) === d && numel(b.shape) === d,
    'patchMergeLayerNorm',
    `affine params for width ${d}`,
  );
  return { L, d };
}
