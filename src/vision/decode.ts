// Whatever a page holds (File/Blob, bytes, URL, <img>, canvas, ImageBitmap, ImageData) → straight RGBA8.
// PNG goes through our own decoder (png.ts), byte-exact with Pillow and available in workers and Node;
// other formats use the browser's decoder with EXIF orientation, color management and premultiplication
// switched off, because `PIL.Image.open` applies none of them (spec §4.5, "Browser decoding caveats").
// Every browser API is feature-checked, so this module loads in Node (where only PNG/bytes/ImageData work).
import { KimiVLError } from '../errors.ts';
import { neutralizeExifOrientation } from './exif.ts';
import { checkImageSize, type RgbaImage, rgbaImage } from './image.ts';
import { decodePng, isPng } from './png.ts';
import { readStraightRgba } from './straight_pixels.ts';

export type ImageInput =
  | Blob
  | ArrayBuffer
  | Uint8Array
  | URL
  | string
  | ImageData
  | RgbaImage
  | ImageBitmap
  | HTMLImageElement
  | HTMLCanvasElement
  | OffscreenCanvas;

type Drawable = ImageBitmap | HTMLImageElement | HTMLCanvasElement | OffscreenCanvas;

/** Largest encoded file we read into memory. */
export const MAX_ENCODED_BYTES = 256 * 1024 * 1024;

const has = (name: string): boolean => typeof (globalThis as Record<string, unknown>)[name] !== 'undefined';
const isInstance = (x: unknown, name: string): boolean =>
  has(name) && x instanceof ((globalThis as Record<string, unknown>)[name] as new () => unknown);

/** Decodes any supported input to straight RGBA8; PNG inputs also carry their Pillow mode. */
export async function decodeImage(input: ImageInput): Promise<RgbaImage> {
  if (typeof input === 'string' || input instanceof URL) return decodeBlob(await fetchBlob(input));
  if (input instanceof ArrayBuffer) return decodeBytes(new Uint8Array(input));
  if (input instanceof Uint8Array) return decodeBytes(input);
  if (isInstance(input, 'Blob')) return decodeBlob(input as Blob);
  if (isInstance(input, 'ImageData') || isRgbaImage(input)) {
    const { width, height, data } = input as RgbaImage;
    return rgbaImage(width, height, data, (input as RgbaImage).pilMode);
  }
  if (isInstance(input, 'HTMLImageElement')) return decodeImgElement(input as HTMLImageElement);
  for (const name of ['ImageBitmap', 'HTMLCanvasElement', 'OffscreenCanvas']) {
    if (isInstance(input, name)) {
      const d = input as Drawable & { width: number; height: number };
      return drawToRgba(d, d.width, d.height);
    }
  }
  throw new KimiVLError(
    'ImageError',
    'unsupported image input; pass a File/Blob, bytes, a URL, ImageData, ImageBitmap, <img>, or a canvas',
  );
}

/** An ImageData-like object: width, height and straight RGBA8 `data`. */
export function isRgbaImage(x: unknown): x is RgbaImage {
  const o = x as Partial<RgbaImage> | null;
  return (
    typeof o === 'object' &&
    o !== null &&
    typeof o.width === 'number' &&
    typeof o.height === 'number' &&
    o.data instanceof Uint8ClampedArray
  );
}

/** The file behind an image URL (http(s), data: or blob:), or an ImageError saying why not. */
export async function fetchBlob(url: string | URL): Promise<Blob> {
  if (!has('fetch')) throw new KimiVLError('ImageError', `cannot fetch ${String(url)}: no fetch() here`);
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new KimiVLError('ImageError', `could not fetch image ${String(url)}: ${String(e)}`, { cause: e });
  }
  if (!res.ok)
    throw new KimiVLError('ImageError', `could not fetch image ${String(url)}: HTTP ${res.status}`);
  return res.blob();
}

async function decodeBlob(blob: Blob): Promise<RgbaImage> {
  if (blob.size > MAX_ENCODED_BYTES) {
    throw new KimiVLError(
      'ImageError',
      `image file is ${blob.size} bytes; the limit is ${MAX_ENCODED_BYTES}`,
    );
  }
  const head = new Uint8Array(await blob.slice(0, 8).arrayBuffer());
  if (isPng(head)) return decodePng(new Uint8Array(await blob.arrayBuffer()));
  return decodeWithBrowser(blob);
}

function decodeBytes(bytes: Uint8Array): Promise<RgbaImage> {
  if (isPng(bytes)) return decodePng(bytes);
  if (!has('Blob')) throw new KimiVLError('ImageError', 'only PNG bytes can be decoded in this environment');
  return decodeWithBrowser(new Blob([bytes as Uint8Array<ArrayBuffer>]));
}

/**
 * The browser's own decoder (JPEG, WebP, GIF, AVIF, … and PNG when asked): no EXIF rotation (JPEG/WebP;
 * AVIF/HEIF irot boxes are not undone), no color conversion, no premultiplication. Opaque images come out byte-exact with the file's samples; alpha < 255
 * goes through a premultiplied canvas and may be off by rounding.
 */
export async function decodeWithBrowser(blob: Blob): Promise<RgbaImage> {
  if (!has('createImageBitmap')) {
    throw new KimiVLError(
      'ImageError',
      `cannot decode ${blob.type || 'this image format'} here (no createImageBitmap); convert it to PNG first`,
    );
  }
  // Chromium rotates by EXIF orientation even with imageOrientation 'none'; PIL never does (exif.ts).
  const unrotated = neutralizeExifOrientation(new Uint8Array(await blob.arrayBuffer()));
  const source = unrotated ? new Blob([unrotated as Uint8Array<ArrayBuffer>], { type: blob.type }) : blob;
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(source, {
      imageOrientation: 'none',
      colorSpaceConversion: 'none',
      premultiplyAlpha: 'none',
    } as ImageBitmapOptions);
  } catch (e) {
    throw new KimiVLError(
      'ImageError',
      `could not decode image (${blob.type || 'unknown type'}): ${String(e)}`,
      {
        cause: e,
      },
    );
  }
  try {
    const image = drawToRgba(bitmap, bitmap.width, bitmap.height);
    if (image.data.every((v, i) => (i & 3) !== 3 || v === 255)) return image;
    // Translucent pixels: the canvas premultiplied them; re-read exact straight values through WebGL.
    const straight = readStraightRgba(bitmap);
    return straight ? rgbaImage(image.width, image.height, straight) : image;
  } finally {
    bitmap.close();
  }
}

async function decodeImgElement(img: HTMLImageElement): Promise<RgbaImage> {
  if (!img.complete || img.naturalWidth === 0) {
    try {
      await img.decode();
    } catch (e) {
      throw new KimiVLError('ImageError', `the <img> (${img.currentSrc || img.src}) failed to load`, {
        cause: e,
      });
    }
  }
  // Note: <img> applies EXIF orientation (CSS image-orientation: from-image); pass the File instead to match PIL.
  return drawToRgba(img, img.naturalWidth, img.naturalHeight);
}

/** Copies a drawable's pixels through a 2D canvas (the only way to read them on the web platform). */
function drawToRgba(source: Drawable, width: number, height: number): RgbaImage {
  checkImageSize(width, height, 'image');
  let canvas: OffscreenCanvas | HTMLCanvasElement;
  if (has('OffscreenCanvas')) canvas = new OffscreenCanvas(width, height);
  else if (has('document')) {
    canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
  } else
    throw new KimiVLError('ImageError', 'no canvas available to read image pixels; pass PNG bytes instead');
  const ctx = canvas.getContext('2d', { willReadFrequently: true, colorSpace: 'srgb' }) as
    | OffscreenCanvasRenderingContext2D
    | CanvasRenderingContext2D
    | null;
  if (!ctx) throw new KimiVLError('ImageError', 'could not create a 2D canvas context to read image pixels');
  ctx.globalCompositeOperation = 'copy'; // no blending with the (transparent) canvas
  ctx.drawImage(source, 0, 0);
  const data = ctx.getImageData(0, 0, width, height, { colorSpace: 'srgb' }).data;
  return rgbaImage(width, height, data);
}
