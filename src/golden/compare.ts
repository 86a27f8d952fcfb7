// Comparisons with the goldens' tolerances: pixel values by max |Δ|, every other float tensor by
// max |got − expected| / max |expected|, tokens and grids exactly.

export interface TensorCheck {
  name: string;
  /** max |Δ| for pixel values, max |Δ| / max |expected| otherwise. */
  error: number;
  tolerance: number;
  pass: boolean;
  detail?: string;
}

export function maxAbsError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  if (got.length !== want.length) return Number.POSITIVE_INFINITY;
  let m = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i]! - want[i]!);
    if (!(d <= m)) m = d; // NaN propagates as a failure
  }
  return m;
}

export function maxRelError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let scale = 0;
  for (let i = 0; i < want.length; i++) scale = Math.max(scale, Math.abs(want[i]!));
  return maxAbsError(got, want) / (scale || 1);
}

export function checkTensor(
  name: string,
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  tol: number,
  absolute = false,
): TensorCheck {
  const error = absolute ? maxAbsError(got, want) : maxRelError(got, want);
  const detail = got.length !== want.length ? `${got.length} values, expected ${want.length}` : undefined;
  return { name, error, tolerance: tol, pass: error <= tol, ...(detail ? { detail } : {}) };
}

export function checkExact(name: string, got: readonly number[], want: readonly number[]): TensorCheck {
  const pass = got.length === want.length && got.every((v, i) => v === want[i]);
  return {
    name,
    error: pass ? 0 : 1,
    tolerance: 0,
    pass,
    ...(pass ? {} : { detail: `got [${got}], expected [${want}]` }),
  };
}

/** torch.argmax semantics: first index of the maximum. */
export function argmax(v: ArrayLike<number>, offset = 0, length = v.length - offset): number {
  let best = 0;
  let bestV = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < length; i++) {
    const x = v[offset + i]!;
    if (x > bestV) {
      bestV = x;
      best = i;
    }
  }
  return best;
}
