// A per-request image-token budget (`maxImageTokens`): each image is resized so that its LM tokens (patches
// after the 2×2 merge, padding included) are at most the budget, the way the preprocessor's in_token_limit
// caps patches — a caller trades detail for speed. The limit is in_token_limit lowered to budget · merge²
// patches, and lowered further while the padded grid still exceeds the budget (padding to the 28-px tile
// can add a row or a column of tokens). Without a budget this is preprocessImages exactly.
import { KimiVLError } from '../errors.ts';
import type { RgbaImage } from './image.ts';
import {
  batchOf,
  type PreprocessConfig,
  type PreprocessedBatch,
  type PreprocessedImage,
  planImage,
  preprocessImage,
} from './preprocess.ts';

/** The patch limit under which an image of width × height gives at most `maxTokens` LM tokens. */
export function budgetedConfig(
  width: number,
  height: number,
  cfg: PreprocessConfig,
  maxTokens: number,
): PreprocessConfig {
  const [mh, mw] = cfg.mergeKernelSize;
  let limit = Math.min(cfg.inTokenLimit, maxTokens * mh * mw);
  for (;;) {
    const capped = { ...cfg, inTokenLimit: limit };
    if (planImage(width, height, capped).nTokens <= maxTokens) return capped;
    // Shrink by at least one patch; planImage refuses an image shrunk to nothing (ImageError).
    limit = Math.min(limit - 1, Math.floor(limit * 0.97));
    if (limit < 1)
      throw new KimiVLError(
        'ImageError',
        `a ${width}×${height} image cannot be resized to ${maxTokens} image tokens or fewer (maxImageTokens)`,
      );
  }
}

/** Refuses a maxImageTokens that is not a positive integer (undefined: no budget). */
export function checkMaxImageTokens(maxImageTokens: number | undefined): void {
  if (maxImageTokens !== undefined && (!Number.isInteger(maxImageTokens) || maxImageTokens < 1))
    throw new KimiVLError('ConfigError', `maxImageTokens must be a positive integer, got ${maxImageTokens}`);
}

/** preprocessImage with the image's tokens ≤ maxImageTokens (when given). */
export function preprocessImageWithin(
  image: RgbaImage,
  cfg: PreprocessConfig,
  maxImageTokens?: number,
): PreprocessedImage {
  checkMaxImageTokens(maxImageTokens);
  if (maxImageTokens === undefined) return preprocessImage(image, cfg);
  return preprocessImage(image, budgetedConfig(image.width, image.height, cfg, maxImageTokens));
}

/** preprocessImages with every image's tokens ≤ maxImageTokens (when given). */
export function preprocessImagesWithin(
  images: readonly RgbaImage[],
  cfg: PreprocessConfig,
  maxImageTokens?: number,
): PreprocessedBatch {
  checkMaxImageTokens(maxImageTokens);
  return batchOf(
    images.map((im) => preprocessImageWithin(im, cfg, maxImageTokens)),
    cfg.patchSize,
  );
}
