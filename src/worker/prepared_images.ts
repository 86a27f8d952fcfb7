// Images prepared once: a follow-up turn about the same picture neither decodes nor preprocesses it again
// (and the KV cache and the feature cache then skip MoonViT too: image_features_cache.ts). An image is
// known by its content: the bytes of a file, a Blob or a URL's answer (a URL is fetched every turn, since
// what it names may change, but bytes seen before are not decoded again), or the pixels of an ImageData.
// An ImageBitmap is drawn again each turn: its pixels cannot be read without drawing it. The key also
// holds the request's maxImageTokens, and each preprocessor config has its own cache.
import { KimiVLError } from '../errors.ts';
import { perObject } from '../per_object.ts';
import { decodeImage, fetchBlob, type ImageInput, isRgbaImage, MAX_ENCODED_BYTES } from '../vision/decode.ts';
import { checkMaxImageTokens, preprocessImageWithin } from '../vision/image_budget.ts';
import type { PreprocessConfig, PreprocessedImage } from '../vision/preprocess.ts';
import { hashBytes } from './content_hash.ts';

/** An image as it crosses the worker boundary (structured-clonable; bitmaps and buffers transferred). */
export type WireImage = Blob | ArrayBuffer | Uint8Array | ImageBitmap | ImageData | string;

/** Prepared images kept per preprocessor (a 1024² image's patches are 5,329 × 588 f32 ≈ 12.5 MB). */
export const PREPARED_IMAGES = 4;

/** What an image is decoded from, and its content key (null: not keyable, prepared every time). */
interface Content {
  source: ImageInput;
  key: string | null;
}

async function blobContent(blob: Blob): Promise<Content> {
  // too big to read: decodeImage refuses it with the limit in its message
  if (blob.size > MAX_ENCODED_BYTES) return { source: blob, key: null };
  return { source: blob, key: `file:${hashBytes(new Uint8Array(await blob.arrayBuffer()))}` };
}

async function contentOf(image: WireImage): Promise<Content> {
  if (typeof image === 'string') return blobContent(await fetchBlob(image));
  if (image instanceof ArrayBuffer) return { source: image, key: `file:${hashBytes(new Uint8Array(image))}` };
  if (image instanceof Uint8Array) return { source: image, key: `file:${hashBytes(image)}` };
  if (typeof Blob !== 'undefined' && image instanceof Blob) return blobContent(image);
  if (isRgbaImage(image)) {
    const { data, width, height } = image;
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    return { source: image as ImageInput, key: `rgba:${width}x${height}:${hashBytes(bytes)}` };
  }
  return { source: image as ImageInput, key: null };
}

/** Runs a read or decode of the `index`-th image; a failure is an ImageError naming the image. */
async function readable<T>(index: number, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new KimiVLError('ImageError', `image ${index + 1} could not be read: ${why}`, { cause: e });
  }
}

/** Preprocessed images by content key, least recently used evicted. */
export class PreparedImageCache {
  private readonly entries = new Map<string, PreprocessedImage>();
  /** Images decoded and preprocessed (misses and unkeyable images), for tests and timings. */
  prepared = 0;

  constructor(
    private readonly cfg: PreprocessConfig,
    readonly capacity = PREPARED_IMAGES,
  ) {}

  /**
   * The preprocessed form of `image` (the `index`-th of its request) under `maxImageTokens`, decoded only
   * when its content is new. A failed image keeps nothing.
   */
  async prepare(image: WireImage, index: number, maxImageTokens?: number): Promise<PreprocessedImage> {
    checkMaxImageTokens(maxImageTokens);
    const content = await readable(index, () => contentOf(image));
    const key = content.key && `${content.key}|${maxImageTokens ?? 'all'}`;
    const hit = key ? this.entries.get(key) : undefined;
    if (hit && key) {
      this.entries.delete(key);
      this.entries.set(key, hit); // most recent last
      return hit;
    }
    const decoded = await readable(index, () => decodeImage(content.source));
    const done = preprocessImageWithin(decoded, this.cfg, maxImageTokens);
    this.prepared++;
    if (key) {
      this.entries.set(key, done);
      while (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    }
    return done;
  }

  get size(): number {
    return this.entries.size;
  }
}

// One cache per preprocessor config object: a reload brings a new config and an empty cache.
export const preparedImagesFor: (cfg: PreprocessConfig) => PreparedImageCache = perObject(
  (cfg) => new PreparedImageCache(cfg),
);
