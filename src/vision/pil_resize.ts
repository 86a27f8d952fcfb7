// `PIL.Image.resize(size, BICUBIC)` as the reference calls it, including its per-mode wrapper
// (Pillow `Image.py` `resize`, `_imaging.c` `_resize`, `Geometry.c` `ImagingScaleAffine`):
//   • same size → the image itself;
//   • "P" and "1" images → NEAREST (Pillow overrides the filter for them);
//   • "RGBA"/"LA" → premultiply alpha (RGBa/La), resample, un-premultiply (Convert.c MULDIV255 / CLIP8);
//   • everything else → bicubic on each channel.
// Images without a known mode (canvas/bitmap decodes) count as "RGBA" when any alpha is below 255.
import type { RgbaImage } from './image.ts';
import { resizeBicubic8 } from './pil_bicubic.ts';

export function pilResizeBicubic(img: RgbaImage, outW: number, outH: number): RgbaImage {
  const { width, height, data } = img;
  if (outW === width && outH === height) return img;
  const mode = img.pilMode ?? (hasTransparency(data) ? 'RGBA' : 'RGB');
  let out: Uint8ClampedArray;
  if (mode === 'P' || mode === '1') {
    out = resizeNearest(data, width, height, outW, outH);
  } else if (mode === 'RGBA' || mode === 'LA') {
    out = unpremultiply(resizeBicubic8(premultiply(data), width, height, outW, outH));
  } else {
    out = resizeBicubic8(data, width, height, outW, outH);
  }
  return img.pilMode === undefined
    ? { width: outW, height: outH, data: out }
    : { ...img, width: outW, height: outH, data: out };
}

function hasTransparency(data: Uint8ClampedArray): boolean {
  for (let i = 3; i < data.length; i += 4) if (data[i] !== 255) return true;
  return false;
}

/** Convert.c `rgbA2rgba`: c·a/255 rounded with MULDIV255 (tmp = c·a + 128; ((tmp >> 8) + tmp) >> 8). */
export function premultiply(data: Uint8ClampedArray): Uint8ClampedArray {
  const out = new Uint8ClampedArray(data.length);
  for (let i = 0; i < data.length; i += 4) {
    const a = data[i + 3];
    for (let c = 0; c < 3; c++) {
      const tmp = data[i + c] * a + 128;
      out[i + c] = ((tmp >> 8) + tmp) >> 8;
    }
    out[i + 3] = a;
  }
  return out;
}

/** Convert.c `rgba2rgbA`: alpha 0 or 255 keeps the value, else CLIP8(⌊255·c / a⌋). */
export function unpremultiply(data: Uint8ClampedArray): Uint8ClampedArray {
  for (let i = 0; i < data.length; i += 4) {
    const a = data[i + 3];
    if (a === 0 || a === 255) continue;
    for (let c = 0; c < 3; c++) data[i + c] = Math.min(255, Math.trunc((255 * data[i + c]) / a));
  }
  return data;
}

/**
 * `ImagingScaleAffine` with a = [W/outW, 0, 0, 0, H/outH, 0]: the source index of output x is
 * ⌊xo⌋ where xo starts at scale/2 and grows by `scale` per step (accumulated in double, as Pillow does).
 */
export function resizeNearest(
  src: Uint8ClampedArray,
  width: number,
  height: number,
  outW: number,
  outH: number,
): Uint8ClampedArray {
  const srcIndex = (inSize: number, outSize: number): Int32Array => {
    const step = inSize / outSize;
    const idx = new Int32Array(outSize);
    let pos = step * 0.5;
    for (let i = 0; i < outSize; i++) {
      idx[i] = Math.min(inSize - 1, Math.max(0, Math.trunc(pos)));
      pos += step;
    }
    return idx;
  };
  const xs = srcIndex(width, outW);
  const ys = srcIndex(height, outH);
  const out = new Uint8ClampedArray(outW * outH * 4);
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      const s = (ys[y] * width + xs[x]) * 4;
      out.set(src.subarray(s, s + 4), (y * outW + x) * 4);
    }
  }
  return out;
}
