// Scoped lifetimes for a block's intermediates, so model code reads like the math:
//
//   const y = scope(k, (tmp) => k.add(x, tmp(k.matmul(tmp(k.rmsNorm(x, w, eps)), w2))));
//
// `tmp(t)` marks t as an intermediate; when the block returns (or throws) every marked tensor is released
// in reverse creation order. Decode steps run the same blocks every token, so the pool sees the same
// releases in the same order and each step binds the buffers of the step before (no new bind groups).
import { KimiVLError } from '../errors.ts';
import type { CoreOps } from '../kernels/types.ts';
import type { Tensor } from '../tensor/types.ts';

/** Marks a tensor as an intermediate of the enclosing scope and returns it. */
export type Tmp = <T extends Tensor>(t: T) => T;

export function scope<R>(k: Pick<CoreOps, 'release'>, block: (tmp: Tmp) => R): R {
  const made: Tensor[] = [];
  try {
    const result = block((t) => {
      made.push(t);
      return t;
    });
    if (made.includes(result as Tensor))
      throw new KimiVLError('EngineStateError', 'a scope returned one of its own intermediates');
    return result;
  } finally {
    k.release(...made.reverse());
  }
}
