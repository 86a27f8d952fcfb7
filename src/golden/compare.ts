// Comparisons with the goldens' tolerances: pixel values by max |Δ|, every other float tensor by
// max |got − expected| / max |expected|, tokens, grids and routed experts exactly.
import type { GoldenRouting } from './case.ts';

export interface TensorCheck {
  name: string;
  /** max |Δ| for pixel values, max |Δ| / max |expected| otherwise. */
  error: number;
  tolerance: number;
  pass: boolean;
  detail?: string;
}

/** max |got − want|; NaN anywhere or a length mismatch is +∞ (a failure under any tolerance). */
export function maxAbsError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  if (got.length !== want.length) return Number.POSITIVE_INFINITY;
  let m = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i]! - want[i]!);
    if (Number.isNaN(d)) return Number.POSITIVE_INFINITY;
    if (d > m) m = d;
  }
  return m;
}

/**
 * The goldens' float metric (README "Tolerances"): max |got − want| / max |want|, the one definition every
 * caller uses. NaN anywhere or a length mismatch is +∞; an all-zero `want` compares absolutely.
 */
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

/** Failed checks as readable lines (empty when everything passed): what a test asserts equal to []. */
export function failures(checks: readonly TensorCheck[]): string[] {
  return checks.filter((c) => !c.pass).map((c) => `${c.name} ${c.error} > ${c.tolerance} ${c.detail ?? ''}`);
}

/**
 * The prompt's routed experts against the case's debug record: `routed[l]` holds the router's ids of the
 * l-th MoE layer, `perToken` per prompt position (in any order: the record is sorted).
 */
export function checkRouting(
  routing: GoldenRouting,
  routed: readonly Uint32Array[],
  perToken: number,
): TensorCheck {
  let detail: string | undefined;
  if (routed.length !== routing.moeLayers.length)
    detail = `${routed.length} routed MoE layers, expected ${routing.moeLayers.length}`;
  routing.moeLayers.forEach((layer, li) => {
    routing.experts[li]!.forEach((want, pos) => {
      const got = routed[li]?.subarray(pos * perToken, (pos + 1) * perToken) ?? [];
      const ids = Array.from(got).sort((a, b) => a - b);
      if (!detail && ids.join() !== want.join())
        detail = `layer ${layer} position ${pos}: got [${ids}], expected [${want}]`;
    });
  });
  return {
    name: 'routing_prompt',
    error: detail ? 1 : 0,
    tolerance: 0,
    pass: !detail,
    ...(detail ? { detail } : {}),
  };
}
