// The harness's verdicts: each metric passes what it should, fails what it should, and a failure names the
// deciding index with got and want.
import { describe, expect, it } from 'vitest';
import {
  allclose,
  compare,
  exact,
  grids,
  maxRelAtMost,
  nmseAtMost,
  nmseBelow,
  rangeRelBelow,
} from './testing.ts';

describe('compare', () => {
  const want = Float32Array.from([1, -2, 3, 4]);
  it('nmse: strict bound, worst index is the largest |Δ|', () => {
    expect(compare(want, want, nmseBelow(1e-12)).pass).toBe(true);
    const r = compare(Float32Array.from([1, -2, 3.5, 4.1]), want, nmseBelow(1e-6));
    expect(r.pass).toBe(false);
    expect(r.worst).toBe(2);
    expect(r.text).toMatch(/NMSE .* \(must be < 0\.000001\); at \[2\] got 3\.5 want 3/);
  });
  it('allclose: first index outside atol + rtol·|want|; NaN never passes', () => {
    expect(compare(Float32Array.from([1, -2, 3 + 2e-6, 4]), want, allclose(1e-6, 1e-6)).pass).toBe(true);
    const r = compare(Float32Array.from([1, Number.NaN, 3, 4]), want, allclose(1, 1));
    expect([r.pass, r.worst]).toEqual([false, 1]);
  });
  it('exact: bit-for-bit, NaN copied is NaN kept, lengths must agree', () => {
    const nan = Float32Array.from([Number.NaN, 1]);
    expect(compare(nan, Float32Array.from(nan), exact).pass).toBe(true);
    expect(compare(Uint32Array.of(3, 4), Uint32Array.of(3, 5), exact).worst).toBe(1);
    expect(compare(Uint32Array.of(3), Uint32Array.of(3, 5), exact).text).toMatch(/1 values, want 2/);
  });
  it('rangeRel: max |Δ| over max |want|', () => {
    expect(compare(Float32Array.from([1, -2, 3, 4.00003]), want, rangeRelBelow(1e-5)).pass).toBe(true);
    expect(compare(Float32Array.from([1, -2, 3, 4.0001]), want, rangeRelBelow(1e-5)).pass).toBe(false);
    expect(compare(Float32Array.from([1, Number.NaN, 3, 4]), want, rangeRelBelow(1)).value).toBe(
      Number.POSITIVE_INFINITY,
    );
  });
  it("inclusive bounds (the goldens' ≤ tol) pass at the bound, strict ones do not", () => {
    const got = Float32Array.from([1, -2, 3, 4.5]); // max|Δ| / max|want| = 0.125, NMSE = 0.25 / 30
    expect(compare(got, want, maxRelAtMost(0.125)).pass).toBe(true);
    expect(compare(got, want, rangeRelBelow(0.125)).pass).toBe(false);
    expect(compare(got, want, maxRelAtMost(0.125)).text).toMatch(
      /must be ≤ 0\.125\); at \[3\] got 4\.5 want 4/,
    );
    expect(compare(got, want, nmseAtMost(0.25 / 30)).pass).toBe(true);
    expect(compare(got, want, nmseBelow(0.25 / 30)).pass).toBe(false);
  });
});

it('grids are written as gridsKey writes them', () => {
  expect(grids('2x6,10x14')).toEqual([
    { h: 2, w: 6 },
    { h: 10, w: 14 },
  ]);
});
