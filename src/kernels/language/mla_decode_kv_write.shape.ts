// Shape rules of latentRowWrite, shared by both backends.
import type { Tensor } from '../../tensor/types.ts';
import { checkShape } from '../shape_check.ts';
import type { RopeOptions } from '../types.ts';

/** cache [ctx, R+P] ← rows of kva [T, R+P] (norm [R]) at positions rope.pos0 ..; rope over one P-wide head. */
export function latentRowWriteShape(
  cache: Tensor,
  kva: Tensor,
  norm: Tensor,
  rope: RopeOptions,
): { T: number; R: number; P: number } {
  const [ctx, W] = cache.shape as [number, number];
  const [T, W2] = kva.shape as [number, number];
  const R = norm.shape[0]!;
  const P = W - R;
  checkShape(
    cache.shape.length === 2 && kva.shape.length === 2 && norm.shape.length === 1 && W === W2 && P > 0,
    'latentRowWrite',
    `kva [${kva.shape}], norm [${norm.shape}] vs cache [${cache.shape}]`,
  );
  checkShape(
    rope.heads === 1 && rope.headStride === P && rope.offset === 0 && rope.ropeDim === P && P % 2 === 0,
    'latentRowWrite',
    `rope must cover the ${P} k_pe columns as one head`,
  );
  checkShape(
    rope.pos0 >= 0 && rope.pos0 + T <= ctx,
    'latentRowWrite',
    `rows ${rope.pos0}..${rope.pos0 + T} outside ${ctx}`,
  );
  return { T, R, P };
}
