// The pixel container every vision step exchanges, and the size guard applied before any allocation.
import { KimiVLError } from '../errors.ts';

/**
 * How Pillow would hold the decoded image (`Image.open(...).mode`). The official preprocessing runs
 * `resize` and `pad` in the image's own mode before `convert("RGB")` (spec §4.2), so the mode decides
 * whether a resize premultiplies alpha ("RGBA"/"LA") or falls back to nearest ("P"/"1"). 16-bit gray PNGs
 * are "I;16": pixels hold min(v, 255) as Pillow's convert("RGB") does; their resize is approximated with
 * the 8-bit path (Pillow resamples the 16-bit values, then clips — a known gap).
 */
export type PilMode = 'RGB' | 'RGBA' | 'L' | 'LA' | 'P' | '1' | 'I;16';

/** Straight (not premultiplied) 8-bit RGBA, row-major, 4 bytes per pixel; structurally an ImageData. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8ClampedArray;
  /** Set by decoders that know it (our PNG decoder); absent for canvas/bitmap decodes. */
  pilMode?: PilMode;
  /**
   * RGB that the reference's zero padding becomes after `convert("RGB")`: palette entry 0 for "P"
   * images (torchvision pads the palette index), black (the default) for every other mode.
   */
  padRgb?: readonly [number, number, number];
}

/** Largest side we accept; browsers cap canvases near here and MoonViT's position table is 512·14 px. */
export const MAX_IMAGE_SIDE = 16384;
/** Largest pixel count we accept (64 MP = 256 MiB of RGBA) before refusing instead of allocating. */
export const MAX_IMAGE_PIXELS = 64 * 1024 * 1024;

/** Throws ImageError for empty, non-integer or oversized dimensions; call before allocating pixels. */
export function checkImageSize(width: number, height: number, what: string): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new KimiVLError(
      'ImageError',
      `${what}: invalid image size ${width}×${height}; expected a non-empty image`,
    );
  }
  if (width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE || width * height > MAX_IMAGE_PIXELS) {
    throw new KimiVLError(
      'ImageError',
      `${what}: image is ${width}×${height}; the limit is ${MAX_IMAGE_SIDE} px a side and ` +
        `${MAX_IMAGE_PIXELS / (1024 * 1024)} MP in total — downscale it before passing it in`,
    );
  }
}

/** Wraps RGBA bytes after checking that their length matches the size. */
export function rgbaImage(
  width: number,
  height: number,
  data: Uint8ClampedArray,
  pilMode?: PilMode,
): RgbaImage {
  checkImageSize(width, height, 'image');
  if (data.length !== width * height * 4) {
    throw new KimiVLError(
      'ImageError',
      `image data has ${data.length} bytes but ${width}×${height} RGBA needs ${width * height * 4}`,
    );
  }
  return pilMode === undefined ? { width, height, data } : { width, height, data, pilMode };
}
