// Our preprocessing against a golden case: image_grid_hws, every image's sizes (images_info), the
// placeholder counts (per image and in the prompt) exactly, pixel_values by max |Δ| (the README's
// pixel tolerance: Pillow's resample is integer arithmetic, so effectively exact). The golden runner and
// the preprocessing tests (Node and Chromium, with either PNG decoder) share these checks.
import { parsePreprocessorConfig } from '../config/config.ts';
import { KimiVLError } from '../errors.ts';
import type { RgbaImage } from '../vision/image.ts';
import { decodePng } from '../vision/png.ts';
import { type PreprocessedBatch, preprocessImages } from '../vision/preprocess.ts';
import { type GoldenCase, joinPath } from './case.ts';
import { checkExact, checkTensor, type TensorCheck } from './compare.ts';
import { type GoldenIO, readCase, readJson, readTensor } from './reader.ts';

/** The checks of one case's preprocessing; `wantPixels` is the case's pixel_values (null if it has none). */
export function preprocessChecks(
  c: GoldenCase,
  images: readonly RgbaImage[],
  batch: PreprocessedBatch,
  wantPixels: Float32Array | null,
): TensorCheck[] {
  const checks = [
    checkExact(
      'image_grid_hws',
      batch.grids.flatMap((g) => [g.h, g.w]),
      c.grids.flatMap((g) => [g.h, g.w]),
    ),
    checkExact('placeholder_counts', batch.nTokens, c.placeholderCounts),
    checkExact(
      'prompt_placeholders',
      [batch.nTokens.reduce((a, b) => a + b, 0)],
      [c.inputIds.filter((id) => id === c.placeholderId).length],
    ),
  ];
  if (c.imagesInfo.length) {
    // size → resized → padded (w, h) of every image, in prompt order.
    const got = images.map((im, i) => [
      im.width,
      im.height,
      ...batch.images[i]!.resizedWH,
      ...batch.images[i]!.paddedWH,
    ]);
    const want = c.imagesInfo.map((i) => [...i.sizeWH, ...i.resizedWH, ...i.paddedWH]);
    checks.push(checkExact('images_info', got.flat(), want.flat()));
  }
  if (wantPixels && c.expected.pixelValues) {
    const count = c.expected.pixelValues.shape.reduce((a, b) => a * b, 1);
    checks.push(checkExact('pixel_values_count', [wantPixels.length], [count]));
    checks.push(
      checkTensor('pixel_values', batch.pixelValues, wantPixels, c.tolerance.pixelValuesMaxAbs, true),
    );
  }
  return checks;
}

export interface PixelsReport {
  case: GoldenCase;
  checks: TensorCheck[];
  /** The pixel_values check (max |Δ|), for logging. */
  pixelError: number;
}

/**
 * Decodes a case's images (our PNG decoder unless `decode` says otherwise), preprocesses them with the
 * model's preprocessor_config.json and checks the result. Refuses a case without images: a check of
 * nothing would pass vacuously, so callers list only cases with images.
 */
export async function checkGoldenPixels(
  io: GoldenIO,
  caseDir: string,
  decode: (bytes: Uint8Array) => Promise<RgbaImage> = decodePng,
): Promise<PixelsReport> {
  const c = await readCase(io, caseDir);
  if (!c.images.length || !c.expected.pixelValues)
    throw new KimiVLError('CheckpointError', `golden case ${c.name} has no images to preprocess`);
  const cfg = parsePreprocessorConfig(await readJson(io, joinPath(c.modelDir, 'preprocessor_config.json')));
  const images = await Promise.all(c.images.map(async (p) => decode(await io.readBytes(p))));
  const batch = preprocessImages(images, cfg);
  const checks = preprocessChecks(c, images, batch, await readTensor(io, c, c.expected.pixelValues));
  return { case: c, checks, pixelError: checks.find((x) => x.name === 'pixel_values')!.error };
}
