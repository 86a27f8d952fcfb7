// The vocabulary of the shape rules (core_shapes.ts, language_shapes.ts, vision_shapes.ts): one failure
// type and message form for both backends, and the matrix view every row-wise op takes of a tensor.
import { KimiVLError } from '../errors.ts';
import type { Tensor } from '../tensor/types.ts';

export function checkShape(cond: boolean, op: string, detail: string): asserts cond {
  if (!cond) throw new KimiVLError('ShapeError', `${op}: ${detail}`);
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Rows and columns of a tensor viewed as a matrix over its last dimension. */
export function rowsCols(t: Tensor): [number, number] {
  const cols = t.shape[t.shape.length - 1] ?? 1;
  return [numel(t.shape) / cols, cols];
}

type Shaped = { readonly shape: readonly number[] };
export const sameShape = (a: Shaped, b: Shaped): boolean => a.shape.join() === b.shape.join();
