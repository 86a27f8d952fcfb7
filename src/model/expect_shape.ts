// The model's input checks: a tensor that is not the shape the math needs is refused with a ShapeError
// that names the input and the shape it must have (free dimensions by their legend letter).
import { KimiVLError } from '../errors.ts';
import type { Tensor } from '../tensor/types.ts';

/** Throws ShapeError unless t.shape matches `want` (a string entry matches any size). */
export function expectShape(what: string, t: Tensor, want: readonly (number | string)[], why = ''): void {
  const ok =
    t.shape.length === want.length && want.every((d, i) => typeof d === 'string' || t.shape[i] === d);
  if (!ok)
    throw new KimiVLError(
      'ShapeError',
      `${what} [${t.shape}] must be [${want.join(', ')}]${why ? ` ${why}` : ''}`,
    );
}
