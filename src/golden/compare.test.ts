// The one comparison metric's edges: NaN anywhere and a length mismatch must fail any tolerance.
import { describe, expect, it } from 'vitest';
import { argmax, checkExact, checkTensor, maxAbsError, maxRelError } from './compare.ts';

describe('maxRelError / maxAbsError', () => {
  it('is max |got − want| / max |want|', () => {
    expect(maxRelError([1, 2, 4], [1, 2, 3])).toBeCloseTo(1 / 3, 15);
    expect(maxRelError([0.5, -2], [0, -4])).toBe(0.5);
    expect(maxAbsError([0.5, -2], [0, -4])).toBe(2);
    expect(maxRelError([], [])).toBe(0);
    expect(maxRelError([0.25, 0], [0, 0])).toBe(0.25); // all-zero expectation: absolute
  });

  it('is +∞ for NaN anywhere (got or want, first or later element)', () => {
    for (const [got, want] of [
      [
        [Number.NaN, 1, 1],
        [1, 1, 1],
      ],
      [
        [1, 1, Number.NaN],
        [1, 1, 1],
      ],
      [
        [5, 1, Number.NaN, 0],
        [1, 1, 1, 0],
      ], // a large error before the NaN must not hide it
      [
        [1, 1],
        [1, Number.NaN],
      ],
      [[Number.NaN], [Number.NaN]],
    ]) {
      expect(maxRelError(got!, want!), `${got} vs ${want}`).toBe(Number.POSITIVE_INFINITY);
      expect(maxAbsError(got!, want!), `${got} vs ${want}`).toBe(Number.POSITIVE_INFINITY);
    }
  });

  it('is +∞ for a length mismatch, even when the common prefix matches', () => {
    expect(maxRelError([1, 2], [1, 2, 3])).toBe(Number.POSITIVE_INFINITY);
    expect(maxRelError([1, 2, 3], [1, 2])).toBe(Number.POSITIVE_INFINITY);
    expect(maxRelError(new Float32Array(0), [1])).toBe(Number.POSITIVE_INFINITY);
    expect(maxAbsError([1, 2], [1, 2, 3])).toBe(Number.POSITIVE_INFINITY);
  });

  it('checkTensor fails NaN and length mismatches and says why', () => {
    expect(checkTensor('x', [1, Number.NaN], [1, 1], 1e9).pass).toBe(false);
    const short = checkTensor('x', [1], [1, 1], 1e9);
    expect(short.pass).toBe(false);
    expect(short.detail).toBe('1 values, expected 2');
    expect(checkTensor('px', [1.5], [1], 0.5, true).pass).toBe(true);
    expect(checkExact('t', [1, 2], [1, 2]).pass).toBe(true);
    expect(checkExact('t', [1, 2], [1]).pass).toBe(false);
  });

  it('argmax takes the first maximum', () => {
    expect(argmax([1, 3, 3, 2])).toBe(1);
    expect(argmax([9, 1, 3, 3, 2], 1, 4)).toBe(1);
  });
});
