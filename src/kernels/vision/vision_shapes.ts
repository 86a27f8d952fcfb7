// Shape checks shared by the reference and GPU vision ops, so both backends refuse the same inputs
// with the same messages. Each returns the sizes the op needs.
import { KimiVLError } from '../../errors.ts';
import type { Tensor } from '../../tensor/types.ts';
import { numel } from '../ref_tensor.ts';
import type { Grid } from '../types.ts';
import { checkGrids, totalPatches } from './grids.ts';

function fail(op: string, detail: string): never {
  throw new KimiVLError('ShapeError', `${op}: ${detail}`);
}

export function posEmbInterpShapes(
  table: Tensor,
  grids: readonly Grid[],
): { h0: number; w0: number; d: number; L: number } {
  checkGrids(grids, 'posEmbInterp');
  if (table.shape.length !== 3) fail('posEmbInterp', `table must be [H0, W0, D], got [${table.shape}]`);
  const [h0, w0, d] = table.shape as [number, number, number];
  return { h0, w0, d, L: totalPatches(grids) };
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
  if (qkv.dtype !== 'f32') fail(op, `qkv must be f32, got ${qkv.dtype}`);
  if (qkv.shape.length !== 2 || qkv.shape[0] !== L || qkv.shape[1] !== 3 * dModel) {
    fail(op, `qkv [${qkv.shape}] must be [${L}, ${3 * dModel}] (L = Σ h·w, 3·heads·headDim)`);
  }
  if (headDim % 2 !== 0) fail(op, `headDim ${headDim} must be even`);
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
  if (x.shape.length !== 2 || x.shape[0] !== L)
    fail('patchMergeLayerNorm', `x [${x.shape}] must have ${L} rows`);
  const d = x.shape[1]!;
  if (numel(w.shape) !== d || numel(b.shape) !== d)
    fail('patchMergeLayerNorm', `affine params for width ${d}`);
  return { L, d };
}
