// Pillow BICUBIC port: hand-computed coefficients and outputs, plus properties any exact port has.
// (Byte-exactness against Pillow itself is covered by the golden cases that downscale:
// a-resized-image and b-two-images in src/golden/pixels.test.ts.)
import { describe, expect, it } from 'vitest';
import { randomBytes as seededBytes } from '../testing/random.ts';
import { bicubicKernel, normalizeCoeffs8bpc, precomputeCoeffs, resizeBicubic8 } from './pil_bicubic.ts';
import { pilResizeBicubic, premultiply, resizeNearest, unpremultiply } from './pil_resize.ts';

/** One row of gray pixels as RGBA (value in every channel, alpha 255). */
function grayRow(values: number[]): Uint8ClampedArray {
  return new Uint8ClampedArray(values.flatMap((v) => [v, v, v, 255]));
}

describe('bicubic kernel (a = −0.5)', () => {
  it('matches the Keys cubic at hand-computed points', () => {
    expect(bicubicKernel(0)).toBe(1);
    expect(bicubicKernel(0.25)).toBe(0.8671875); // (1.5·¼ − 2.5)·¼² + 1 = 111/128
    expect(bicubicKernel(-0.75)).toBe(0.2265625); // 29/128
    expect(bicubicKernel(1.25)).toBe(-0.0703125); // ((−3.75·1.25 + 8)·1.25 − 4)·(−½) = −9/128
    expect(Math.abs(bicubicKernel(1))).toBe(0); // −0 from (…)·a
    expect(bicubicKernel(2)).toBe(0);
    expect(bicubicKernel(-3)).toBe(0);
  });
});

describe('precompute_coeffs / normalize_coeffs_8bpc', () => {
  it('4 → 2 (scale 2, support 4): taps and 22-bit weights worked out by hand', () => {
    const c = precomputeCoeffs(4, 2);
    expect(c.ksize).toBe(9); // ceil(4)·2 + 1
    // xx=0: center 1, xmin = (int)(−2.5) → clamp 0, count = min((int)5.5, 4) − 0 = 4.
    // xx=1: center 3, xmin = (int)(−0.5) = 0 (truncation toward zero), count 4.
    expect(Array.from(c.bounds)).toEqual([0, 4, 0, 4]);
    // Taps at (x − center + ½)/2 = −¼, ¼, ¾, 1¼ → 111, 111, 29, −9 (/128), sum 242/128.
    const k = normalizeCoeffs8bpc(c.weights);
    // round-half-away(w/242 · 2²²): 1923833.65 → 1923834, 502623.21 → 502623, −155986.51 → −155987.
    expect(Array.from(k.subarray(0, 4))).toEqual([1923834, 1923834, 502623, -155987]);
    expect(Array.from(k.subarray(9, 13))).toEqual([-155987, 502623, 1923834, 1923834]);
    expect(Array.from(k.subarray(4, 9))).toEqual([0, 0, 0, 0, 0]);
  });

  it('upscaling keeps support 2 and a kernel that sums to one', () => {
    const c = precomputeCoeffs(3, 7);
    expect(c.ksize).toBe(5);
    for (let i = 0; i < 7; i++) {
      let sum = 0;
      for (let x = 0; x < c.bounds[i * 2 + 1]; x++) sum += c.weights[i * 5 + x];
      expect(sum).toBeCloseTo(1, 12);
    }
  });
});

describe('resizeBicubic8', () => {
  it('4 → 2 on one row: (2²¹ + Σ p·k) >> 22 by hand, including a value just below 164', () => {
    const out = resizeBicubic8(grayRow([10, 200, 50, 255]), 4, 1, 2, 1);
    // 2097152 + 10·1923834 + 200·1923834 + 50·502623 − 255·155987 = 391456757 → 93
    // 2097152 − 10·155987 + 200·502623 + 50·1923834 + 255·1923834 = 687831252 → 163 (164·2²² = 687865856)
    expect(Array.from(out)).toEqual([93, 93, 93, 255, 163, 163, 163, 255]);
  });

  it('the same row as a column gives the same numbers (vertical pass)', () => {
    const out = resizeBicubic8(grayRow([10, 200, 50, 255]), 1, 4, 1, 2);
    expect(Array.from(out)).toEqual([93, 93, 93, 255, 163, 163, 163, 255]);
  });

  it('clips overshoot to [0, 255]', () => {
    // A hard edge overshoots with the negative lobes; Pillow clamps after each pass.
    const out = resizeBicubic8(grayRow([0, 0, 0, 255, 255, 255, 0, 0, 0]), 9, 1, 5, 1);
    for (const v of out) expect(v >= 0 && v <= 255).toBe(true);
    const up = resizeBicubic8(grayRow([0, 255, 0]), 3, 1, 11, 1);
    expect(Math.max(...up)).toBe(255);
    expect(Math.min(...up)).toBe(0);
  });

  it('same size is an identity copy', () => {
    const src = new Uint8ClampedArray(seededBytes(7 * 5 * 4, 1));
    const out = resizeBicubic8(src, 7, 5, 7, 5);
    expect(out).not.toBe(src);
    expect(Array.from(out)).toEqual(Array.from(src));
  });

  it('a constant image stays constant at any size', () => {
    for (const [w, h, ow, oh] of [
      [50, 37, 13, 9],
      [20, 20, 33, 7],
      [9, 64, 9, 5],
      [64, 9, 3, 9],
    ]) {
      const src = new Uint8ClampedArray(w * h * 4).fill(173);
      const out = resizeBicubic8(src, w, h, ow, oh);
      expect(out.length).toBe(ow * oh * 4);
      expect(out.every((v) => v === 173)).toBe(true);
    }
  });

  it('is separable with an 8-bit intermediate: (W,H)→(W′,H′) equals (W,H)→(W′,H)→(W′,H′)', () => {
    // Also checks that the horizontal pass over only the rows the vertical pass reads is invisible.
    const src = new Uint8ClampedArray(seededBytes(41 * 29 * 4, 2));
    const direct = resizeBicubic8(src, 41, 29, 17, 11);
    const twoStep = resizeBicubic8(resizeBicubic8(src, 41, 29, 17, 29), 17, 29, 17, 11);
    expect(Array.from(direct)).toEqual(Array.from(twoStep));
  });

  it('channels are independent', () => {
    const src = new Uint8ClampedArray(seededBytes(23 * 19 * 4, 3));
    const out = resizeBicubic8(src, 23, 19, 10, 8);
    const red = new Uint8ClampedArray(src.length);
    for (let i = 0; i < src.length; i += 4) red.fill(src[i], i, i + 4);
    const outRed = resizeBicubic8(red, 23, 19, 10, 8);
    for (let i = 0; i < out.length; i += 4) expect(outRed[i + 1]).toBe(out[i]);
  });
});

describe('Image.resize mode handling', () => {
  it('MULDIV255 premultiply equals round-half-up of c·a/255 for every (c, a)', () => {
    const px = new Uint8ClampedArray(256 * 256 * 4);
    for (let c = 0; c < 256; c++) for (let a = 0; a < 256; a++) px.set([c, c, c, a], (c * 256 + a) * 4);
    const pre = premultiply(px);
    const got: number[] = [];
    const want: number[] = [];
    for (let c = 0; c < 256; c++) {
      for (let a = 0; a < 256; a++) {
        got.push(pre[(c * 256 + a) * 4]);
        want.push(Math.floor((c * a) / 255 + 0.5));
      }
    }
    expect(got).toEqual(want);
  });

  it('un-premultiply: ⌊255·c/a⌋ clipped, alpha 0 and 255 untouched', () => {
    const out = unpremultiply(
      new Uint8ClampedArray([100, 200, 7, 128, 9, 9, 9, 0, 50, 60, 70, 255, 200, 0, 1, 100]),
    );
    expect(Array.from(out)).toEqual([199, 255, 13, 128, 9, 9, 9, 0, 50, 60, 70, 255, 255, 0, 2, 100]);
  });

  it('RGBA with transparency resamples premultiplied colors (no halo from transparent pixels)', () => {
    // Left half opaque red, right half transparent "green": Pillow's RGBa path keeps the visible red pure.
    const w = 8;
    const src = new Uint8ClampedArray(w * 4);
    for (let x = 0; x < w; x++) src.set(x < 4 ? [255, 0, 0, 255] : [0, 255, 0, 0], x * 4);
    const out = pilResizeBicubic({ width: w, height: 1, data: src, pilMode: 'RGBA' }, 3, 1);
    expect(Array.from(out.data.subarray(0, 4))).toEqual([255, 0, 0, 255]);
    expect(out.data[5]).toBe(0); // middle pixel: partially transparent red, no green bleed
    const straight = resizeBicubic8(src, w, 1, 3, 1);
    expect(straight[5]).toBeGreaterThan(0); // resampling straight alpha would bleed green
    // Unknown mode with alpha < 255 is treated as RGBA.
    expect(Array.from(pilResizeBicubic({ width: w, height: 1, data: src }, 3, 1).data)).toEqual(
      Array.from(out.data),
    );
  });

  it('opaque RGBA and RGB modes give the same bytes', () => {
    const src = new Uint8ClampedArray(seededBytes(30 * 20 * 4, 4));
    for (let i = 3; i < src.length; i += 4) src[i] = 255;
    const a = pilResizeBicubic({ width: 30, height: 20, data: src, pilMode: 'RGBA' }, 11, 7);
    const b = pilResizeBicubic({ width: 30, height: 20, data: src, pilMode: 'RGB' }, 11, 7);
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
  });

  it('palette images use nearest: index ⌊(i + ½)·scale⌋ per axis', () => {
    const src = new Uint8ClampedArray(Array.from({ length: 10 }, (_, x) => [x * 20, 0, 0, 255]).flat());
    const out = pilResizeBicubic({ width: 10, height: 1, data: src, pilMode: 'P' }, 4, 1);
    // scale 2.5: positions 1.25, 3.75, 6.25, 8.75 → source pixels 1, 3, 6, 8.
    expect(Array.from(out.data).filter((_, i) => i % 4 === 0)).toEqual([20, 60, 120, 160]);
    expect(Array.from(resizeNearest(src, 10, 1, 10, 1))).toEqual(Array.from(src));
  });
});
