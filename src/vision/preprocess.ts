// KimiVLImageProcessor (`image_processing_kimi_vl.py`, spec §4): resize to the token budget with
// Pillow BICUBIC, zero-pad right/bottom to the merge grid, scale to [0, 1], normalise, cut into
// 14×14 patches. Float32 rounding is reproduced step by step, so the output equals the reference's.
//
// Legend: W×H original size, W'×H' resized, W''×H'' padded, p patch size (14),
// h×w patch grid (H''/p × W''/p), P = h·w patches.

import type { ImageProcessorConfig } from '../config/config.ts';
import { KimiVLError } from '../errors.ts';
import type { RgbaImage } from './image.ts';
import { pilResizeBicubic } from './pil_resize.ts';

/** The preprocessor_config.json fields preprocessing uses (parsed by src/weights/config.ts). */
export type PreprocessConfig = Pick<
  ImageProcessorConfig,
  'patchSize' | 'inTokenLimit' | 'mergeKernelSize' | 'padInput' | 'imageMean' | 'imageStd'
>;

/** MoonViT's rope/position tables are 512 patches a side; the reference asserts "Exceed pos emb". */
export const MAX_GRID_SIDE = 512;

export interface PatchGrid {
  /** Patch rows (height first, as `image_grid_hws`). */
  h: number;
  w: number;
}

/** Sizes the reference derives from the original size alone (spec §4.1, §4.6). */
export interface ImagePlan {
  resizedWH: [number, number];
  paddedWH: [number, number];
  grid: PatchGrid;
  /** LM placeholder tokens: h·w / (merge_h·merge_w). */
  nTokens: number;
}

export interface PreprocessedImage extends ImagePlan {
  /** [P, 3, p, p] float32, patches row-major over the grid, each (channel, y, x). */
  pixelValues: Float32Array;
}

export interface PreprocessedBatch {
  /** All images' patches concatenated in order: [Σ P, 3, p, p]. */
  pixelValues: Float32Array;
  /** The shape the vision tower takes pixelValues in: [Σ P, 3·p·p] (one row per patch). */
  shape: [number, number];
  grids: PatchGrid[];
  nTokens: number[];
  images: ImagePlan[];
}

/** The resize/pad/grid plan for a W×H image (`rescale` in the reference). */
export function planImage(width: number, height: number, cfg: PreprocessConfig): ImagePlan {
  const p = cfg.patchSize;
  const [mh, mw] = cfg.mergeKernelSize;
  if (!cfg.padInput) {
    throw new KimiVLError(
      'ConfigError',
      'preprocessor_config.json: pad_input=false (center-crop) is not supported; released Kimi-VL configs use true',
    );
  }
  let rw = width;
  let rh = height;
  const patches = Math.floor(width / p) * Math.floor(height / p);
  if (patches > cfg.inTokenLimit) {
    // Python: s = math.sqrt(L / patches) in float64, then int(W * s) truncates.
    const s = Math.sqrt(cfg.inTokenLimit / patches);
    rw = Math.trunc(width * s);
    rh = Math.trunc(height * s);
  }
  if (rw <= 0 || rh <= 0) {
    throw new KimiVLError(
      'ImageError',
      `image ${width}×${height} would be resized to ${rw}×${rh}; it is too thin`,
    );
  }
  const padW = rw + ((mw * p - (rw % (mw * p))) % (mw * p));
  const padH = rh + ((mh * p - (rh % (mh * p))) % (mh * p));
  const grid = { h: padH / p, w: padW / p };
  if (grid.h >= MAX_GRID_SIDE || grid.w >= MAX_GRID_SIDE) {
    throw new KimiVLError(
      'ImageError',
      `image ${width}×${height} gives a ${grid.h}×${grid.w} patch grid; MoonViT allows < ${MAX_GRID_SIDE} a side (lower in_token_limit)`,
    );
  }
  return { resizedWH: [rw, rh], paddedWH: [padW, padH], grid, nTokens: (grid.h * grid.w) / (mh * mw) };
}

/** Runs the whole reference preprocessing on one decoded image. */
export function preprocessImage(image: RgbaImage, cfg: PreprocessConfig): PreprocessedImage {
  const plan = planImage(image.width, image.height, cfg);
  const resized = pilResizeBicubic(image, plan.resizedWH[0], plan.resizedWH[1]);
  const pixelValues = patchify(resized, plan, cfg);
  return { ...plan, pixelValues };
}

/**
 * Preprocesses images in prompt order and concatenates their patches (`pixel_values`). `configFor` may
 * give an image its own limits (a per-request token budget); the patch size stays `cfg`'s.
 */
export function preprocessImages(
  images: readonly RgbaImage[],
  cfg: PreprocessConfig,
  configFor: (im: RgbaImage) => PreprocessConfig = () => cfg,
): PreprocessedBatch {
  return batchOf(
    images.map((im) => preprocessImage(im, configFor(im))),
    cfg.patchSize,
  );
}

/** Preprocessed images in prompt order as one batch: their patches concatenated (`pixel_values`). */
export function batchOf(done: readonly PreprocessedImage[], patchSize: number): PreprocessedBatch {
  const pixelValues = new Float32Array(done.reduce((n, d) => n + d.pixelValues.length, 0));
  let at = 0;
  for (const d of done) {
    pixelValues.set(d.pixelValues, at);
    at += d.pixelValues.length;
  }
  const row = 3 * patchSize * patchSize;
  return {
    pixelValues,
    shape: [pixelValues.length / row, row],
    grids: done.map((d) => d.grid),
    nTokens: done.map((d) => d.nTokens),
    images: done.map(({ pixelValues: _, ...plan }) => plan),
  };
}

/**
 * `to_tensor` (uint8 / 255 in float32) and `normalize` ((x − mean) / std, float32 ops) for every
 * byte value, per channel: 3×256 entries, each rounded to float32 after every step as torch does.
 */
function normalizationTable(cfg: PreprocessConfig): Float32Array {
  const table = new Float32Array(3 * 256);
  for (let c = 0; c < 3; c++) {
    const mean = Math.fround(cfg.imageMean[c]);
    const std = Math.fround(cfg.imageStd[c]);
    for (let v = 0; v < 256; v++)
      table[c * 256 + v] = Math.fround(Math.fround(Math.fround(v / 255) - mean) / std);
  }
  return table;
}

/** Pads (with `padRgb`, black unless a palette image) and cuts into [P, 3, p, p] (`patchify`). */
function patchify(img: RgbaImage, plan: ImagePlan, cfg: PreprocessConfig): Float32Array {
  const p = cfg.patchSize;
  const { h, w } = plan.grid;
  const [rw, rh] = plan.resizedWH;
  const table = normalizationTable(cfg);
  const pad = img.padRgb ?? [0, 0, 0];
  const padValue = [0, 1, 2].map((c) => table[c * 256 + pad[c]]);
  const out = new Float32Array(h * w * 3 * p * p);
  const src = img.data;
  let o = 0;
  for (let gy = 0; gy < h; gy++) {
    for (let gx = 0; gx < w; gx++) {
      for (let c = 0; c < 3; c++) {
        const lut = c * 256;
        for (let ky = 0; ky < p; ky++) {
          const y = gy * p + ky;
          for (let kx = 0; kx < p; kx++) {
            const x = gx * p + kx;
            out[o++] = x < rw && y < rh ? table[lut + src[(y * rw + x) * 4 + c]] : padValue[c];
          }
        }
      }
    }
  }
  return out;
}
