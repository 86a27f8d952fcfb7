// Pillow's BICUBIC resample on 8-bit images, integer for integer (spec §4.5), because the reference
// preprocessing resizes with `PIL.Image.resize(size, BICUBIC)` and a canvas resize does not match it.
// Port of `precompute_coeffs`, `normalize_coeffs_8bpc`, `ImagingResampleHorizontal_8bpc`,
// `ImagingResampleVertical_8bpc` and `ImagingResampleInner` in Pillow `src/libImaging/Resample.c`
// (@ 01f132fb). Every channel is resampled independently, as Pillow does for each band; the caller
// handles alpha premultiplication (pil_resize.ts).

/** Pillow's fixed-point precision for 8-bit results: 32 − 8 − 2 bits (two bits of headroom). */
const PRECISION_BITS = 22;

/** Bicubic convolution kernel with a = −0.5, written in Pillow's operation order (`bicubic_filter`). */
export function bicubicKernel(x: number): number {
  const a = -0.5;
  if (x < 0) x = -x;
  if (x < 1) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

/** Per output index: first source index, number of taps, and `ksize` double weights (`precompute_coeffs`). */
export interface ResampleCoeffs {
  ksize: number;
  /** [out·2]: xmin, count. */
  bounds: Int32Array;
  /** [out·ksize]: normalized weights (sum 1 over the taps), zero past `count`. */
  weights: Float64Array;
}

/** `precompute_coeffs` for the box (0, inSize) with the bicubic filter (support 2). */
export function precomputeCoeffs(inSize: number, outSize: number): ResampleCoeffs {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1.0);
  const support = 2.0 * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const weights = new Float64Array(outSize * ksize);
  const ss = 1.0 / filterscale; // Pillow multiplies by the reciprocal; dividing can differ in the last bit.
  for (let xx = 0; xx < outSize; xx++) {
    const center = 0 + (xx + 0.5) * scale;
    // (int) casts truncate toward zero.
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const count = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    const k = xx * ksize;
    let ww = 0.0;
    for (let x = 0; x < count; x++) {
      const w = bicubicKernel((x + xmin - center + 0.5) * ss);
      weights[k + x] = w;
      ww += w;
    }
    if (ww !== 0.0) for (let x = 0; x < count; x++) weights[k + x] /= ww;
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = count;
  }
  return { ksize, bounds, weights };
}

/** `normalize_coeffs_8bpc`: weights × 2²², rounded half away from zero, truncated to int. */
export function normalizeCoeffs8bpc(weights: Float64Array): Int32Array {
  const out = new Int32Array(weights.length);
  const one = 1 << PRECISION_BITS;
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i];
    out[i] = w < 0 ? Math.trunc(-0.5 + w * one) : Math.trunc(0.5 + w * one);
  }
  return out;
}

/** `clip8`: arithmetic shift out the fixed point, clamp to a byte. */
function clip8(ss: number): number {
  const v = ss >> PRECISION_BITS;
  return Math.max(0, Math.min(v, 255));
}

const HALF = 1 << (PRECISION_BITS - 1);

/**
 * Resizes interleaved 4-byte pixels (RGBA, or Pillow's RGBX) to outW×outH exactly as
 * `ImagingResample(im, outW, outH, BICUBIC, (0, 0, w, h))`: horizontal pass first (only rows the
 * vertical pass reads), vertical second, each only when that size changes, 8-bit between passes.
 */
export function resizeBicubic8(
  src: Uint8ClampedArray,
  width: number,
  height: number,
  outW: number,
  outH: number,
): Uint8ClampedArray {
  const needHorizontal = outW !== width;
  const needVertical = outH !== height;
  const vert = precomputeCoeffs(height, outH);
  let img = src;
  let imgW = width;
  if (needHorizontal) {
    const firstRow = vert.bounds[0];
    const lastRow = vert.bounds[outH * 2 - 2] + vert.bounds[outH * 2 - 1];
    for (let i = 0; i < outH; i++) vert.bounds[i * 2] -= firstRow;
    img = horizontalPass(src, width, firstRow, lastRow - firstRow, outW);
    imgW = outW;
  }
  if (needVertical) img = verticalPass(img, imgW, vert, outH);
  return img === src ? src.slice() : img;
}

/** `ImagingResampleHorizontal_8bpc` over source rows [rowOffset, rowOffset + rows). */
function horizontalPass(
  src: Uint8ClampedArray,
  width: number,
  rowOffset: number,
  rows: number,
  outW: number,
): Uint8ClampedArray {
  const { ksize, bounds, weights } = precomputeCoeffs(width, outW);
  const kk = normalizeCoeffs8bpc(weights);
  const out = new Uint8ClampedArray(outW * rows * 4);
  for (let yy = 0; yy < rows; yy++) {
    const rowStart = (yy + rowOffset) * width * 4;
    for (let xx = 0; xx < outW; xx++) {
      const xmin = bounds[xx * 2];
      const count = bounds[xx * 2 + 1];
      const k = xx * ksize;
      let s0 = HALF;
      let s1 = HALF;
      let s2 = HALF;
      let s3 = HALF;
      for (let x = 0; x < count; x++) {
        const p = rowStart + (x + xmin) * 4;
        const w = kk[k + x];
        s0 += src[p] * w;
        s1 += src[p + 1] * w;
        s2 += src[p + 2] * w;
        s3 += src[p + 3] * w;
      }
      const o = (yy * outW + xx) * 4;
      out[o] = clip8(s0);
      out[o + 1] = clip8(s1);
      out[o + 2] = clip8(s2);
      out[o + 3] = clip8(s3);
    }
  }
  return out;
}

/** `ImagingResampleVertical_8bpc`; `coeffs.bounds` are relative to the first row of `src`. */
function verticalPass(
  src: Uint8ClampedArray,
  width: number,
  coeffs: ResampleCoeffs,
  outH: number,
): Uint8ClampedArray {
  const { ksize, bounds, weights } = coeffs;
  const kk = normalizeCoeffs8bpc(weights);
  const out = new Uint8ClampedArray(width * outH * 4);
  const stride = width * 4;
  for (let yy = 0; yy < outH; yy++) {
    const ymin = bounds[yy * 2];
    const count = bounds[yy * 2 + 1];
    const k = yy * ksize;
    for (let xx = 0; xx < width; xx++) {
      let s0 = HALF;
      let s1 = HALF;
      let s2 = HALF;
      let s3 = HALF;
      for (let y = 0; y < count; y++) {
        const p = (y + ymin) * stride + xx * 4;
        const w = kk[k + y];
        s0 += src[p] * w;
        s1 += src[p + 1] * w;
        s2 += src[p + 2] * w;
        s3 += src[p + 3] * w;
      }
      const o = (yy * width + xx) * 4;
      out[o] = clip8(s0);
      out[o + 1] = clip8(s1);
      out[o + 2] = clip8(s2);
      out[o + 3] = clip8(s3);
    }
  }
  return out;
}
