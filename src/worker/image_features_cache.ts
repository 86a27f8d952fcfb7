// Image reuse across turns. Each image of a prompt is keyed by a hash of its pixel values and grid; its
// rows in the prompt get the keys `<hash>#<row>`, which the KV cache compares like token ids, so a
// follow-up turn about the same image reuses the cached prefix through the image. Only images whose rows
// lie (partly) after the reused prefix need features at all, and those come from a small LRU of features
// by the same hash when the prefix diverged earlier (an edited earlier message): no re-encode. What is
// left is encoded one image at a time, as encodeImagesOneByOne does, so a cancel lands between images.
import { yieldToEventLoop } from '../generate/prefill.ts';
import type { Kernels } from '../kernels/types.ts';
import type { KimiVLModel, PixelRows } from '../model/kimi_vl.ts';
import type { KvCache } from '../model/kv_cache.ts';
import { perObject } from '../per_object.ts';
import type { Tensor } from '../tensor/types.ts';
import { hashWords } from './content_hash.ts';
import { concatRows } from './image_features.ts';

/** Images whose features are kept per device (a 1024² image's are 1,332 × 2,048 f32 ≈ 11 MB). */
export const FEATURE_CACHE_IMAGES = 4;

/** The hash of an image's pixel values and grid (content_hash.ts), as 16 hex digits. */
export function imageHash(pixels: Float32Array, grid: { h: number; w: number }): string {
  return hashWords(new Uint32Array(pixels.buffer, pixels.byteOffset, pixels.length), grid.h, grid.w);
}

/** Features [f, D] by image hash, least recently used evicted (its tensor released). */
export class ImageFeatureCache {
  private readonly entries = new Map<string, Tensor>();

  constructor(
    private readonly k: Pick<Kernels, 'release'>,
    readonly capacity = FEATURE_CACHE_IMAGES,
  ) {}

  get(hash: string): Tensor | undefined {
    const t = this.entries.get(hash);
    if (t) {
      this.entries.delete(hash);
      this.entries.set(hash, t); // most recent last
    }
    return t;
  }

  put(hash: string, features: Tensor): void {
    const old = this.entries.get(hash);
    if (old && old !== features) this.k.release(old);
    this.entries.delete(hash);
    this.entries.set(hash, features);
    while (this.entries.size > this.capacity) {
      const [oldest, t] = this.entries.entries().next().value as [string, Tensor];
      this.entries.delete(oldest);
      this.k.release(t);
    }
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    for (const t of this.entries.values()) this.k.release(t);
    this.entries.clear();
  }
}

// One cache per kernels object: a new device (recovery, reload) brings new kernels and an empty cache,
// and the old one goes with its device.
export const featureCacheFor: (k: Kernels) => ImageFeatureCache = perObject((k) => new ImageFeatureCache(k));

/** Where each image's rows sit in the prompt: the runs of image rows (null keys), one per image. */
function imageSpans(keys: readonly (number | null)[]): Array<{ start: number; rows: number }> {
  const spans: Array<{ start: number; rows: number }> = [];
  keys.forEach((key, i) => {
    if (key !== null) return;
    const last = spans.at(-1);
    if (last && last.start + last.rows === i) last.rows++;
    else spans.push({ start: i, rows: 1 });
  });
  return spans;
}

export interface ReusedImages {
  /** [F', D] features of the image rows after the reusable prefix, in order, or null when none. */
  features: Tensor | null;
  /** MoonViT passes run (0 when every image came from the KV cache or the feature cache). */
  encoded: number;
}

/**
 * Names the prompt's image rows in `cache` and returns the features the prefill will need (only the image
 * rows after the prefix the cache can reuse), or null when cancelled between images. Without images the
 * cache's image-row names are cleared.
 */
export async function encodeImagesReusing(
  k: Kernels,
  model: Pick<KimiVLModel, 'imageFeatures' | 'cacheKey'>,
  cache: KvCache,
  ids: readonly number[],
  images: PixelRows | null,
  isCancelled: () => boolean,
  features: ImageFeatureCache = featureCacheFor(k),
): Promise<ReusedImages | null> {
  const keys = model.cacheKey(ids);
  const spans = imageSpans(keys);
  const grids = images?.grids ?? [];
  // Adjacent images with no token between them cannot be told apart by their rows: key nothing then.
  const known = images !== null && spans.length === grids.length;
  const width = images?.shape[1] ?? 0;
  const hashes: string[] = [];
  const rowKeys: (string | null)[] = new Array<string | null>(ids.length).fill(null);
  let patchRow = 0;
  grids.forEach((grid, i) => {
    const patches = grid.h * grid.w;
    const pixels = images!.pixelValues.subarray(patchRow * width, (patchRow + patches) * width);
    patchRow += patches;
    hashes.push(imageHash(pixels, grid));
    if (known) for (let r = 0; r < spans[i]!.rows; r++) rowKeys[spans[i]!.start + r] = `${hashes[i]}#${r}`;
  });
  cache.expectImageRows(known ? rowKeys : []);
  if (!images) return { features: null, encoded: 0 };
  const cached = cache.reusablePrefix(keys); // what generate() will reuse
  const parts: Tensor[] = [];
  let encoded = 0;
  try {
    patchRow = 0;
    for (let i = 0; i < grids.length; i++) {
      const grid = grids[i]!;
      const patches = grid.h * grid.w;
      const first = patchRow;
      patchRow += patches;
      const span = spans[i];
      const skip = known && span ? Math.max(0, cached - span.start) : 0; // rows the cache holds
      if (known && span && skip >= span.rows) continue;
      let all = known ? features.get(hashes[i]!) : undefined;
      if (!all) {
        const pixelValues = images.pixelValues.subarray(first * width, patchRow * width);
        all = model.imageFeatures(k, { pixelValues, shape: [patches, width], grids: [grid] }); // [f, D]
        encoded++;
        if (known) features.put(hashes[i]!, all);
        else parts.push(all);
        await waitForDevice(k, all);
        if (isCancelled()) return null;
      }
      // A copy of the rows still needed (the feature cache keeps its tensor).
      if (known) parts.push(k.sliceRows(all, skip, all.shape[0]! - skip)); // [f − skip, D]
    }
    if (!parts.length) return { features: null, encoded };
    return { features: parts.length === 1 ? parts.pop()! : concatRows(k, parts), encoded };
  } finally {
    k.release(...parts);
  }
}

/** Reads one row back so the image has run before the next starts (a cancel lands in between). */
async function waitForDevice(k: Kernels, t: Tensor): Promise<void> {
  const probe = k.sliceRows(t, 0, 1); // [1, D]
  try {
    await k.read(probe);
  } finally {
    k.release(probe);
  }
  await yieldToEventLoop();
}
