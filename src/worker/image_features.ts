// The image features of a request, encoded one image at a time: each image is one MoonViT pass (its own
// grid, its own attention block, so the result equals the batched pass), and a cancel or an unload lands
// between images instead of after all of them. Between images the thread yields so a cancel message can
// arrive. One image (the usual case) is a single pass, exactly as before.
import { yieldToEventLoop } from '../generate/prefill.ts';
import type { Kernels } from '../kernels/types.ts';
import type { KimiVLModel, PixelRows } from '../model/kimi_vl.ts';
import type { Tensor } from '../tensor/types.ts';

/** [F, D] features of all images in prompt order, or null when cancelled between images. */
export async function encodeImagesOneByOne(
  k: Kernels,
  model: Pick<KimiVLModel, 'imageFeatures'>,
  images: PixelRows,
  isCancelled: () => boolean,
): Promise<Tensor | null> {
  if (images.grids.length <= 1) return model.imageFeatures(k, images); // [F, D]
  const width = images.shape[1];
  const parts: Tensor[] = [];
  try {
    let row = 0;
    for (const grid of images.grids) {
      const patches = grid.h * grid.w;
      const pixelValues = images.pixelValues.subarray(row * width, (row + patches) * width);
      row += patches;
      const part = model.imageFeatures(k, { pixelValues, shape: [patches, width], grids: [grid] }); // [f, D]
      parts.push(part);
      const probe = k.sliceRows(part, 0, 1); // [1, D]: reading it waits until the image has run
      try {
        await k.read(probe);
      } finally {
        k.release(probe);
      }
      await yieldToEventLoop();
      if (isCancelled()) return null;
    }
    return concatRows(k, parts); // [F, D]
  } finally {
    k.release(...parts);
  }
}

/** Rows of `parts` stacked in order: [Σ fᵢ, D] (a zero tensor whose row blocks are replaced in turn). */
export function concatRows(k: Kernels, parts: readonly Tensor[]): Tensor {
  const total = parts.reduce((n, p) => n + p.shape[0]!, 0);
  let out = k.zeros([total, parts[0]!.shape[1]!]); // [F, D]
  let row = 0;
  for (const part of parts) {
    const n = part.shape[0]!;
    const rows = Array.from({ length: n }, (_, i) => row + i);
    row += n;
    const next = k.spliceRows(out, rows, part); // [F, D]
    k.release(out);
    out = next;
  }
  return out;
}
