// Checks our preprocessing against one golden case (../shared/golden layout, see its README):
// decode the case's images, preprocess with the model's preprocessor_config.json, compare with
// expected.pixel_values, image_grid_hws, images_info and the placeholder count in input_ids.
// File access is injected, so the same check runs in Node (fs) and in the browser (fetch).
import { parsePreprocessorConfig } from '../config/config.ts';
import type { RgbaImage } from './image.ts';
import { decodePng } from './png.ts';
import { preprocessImages } from './preprocess.ts';

export type ReadBytes = (path: string) => Promise<Uint8Array>;

export interface GoldenPixelsReport {
  caseDir: string;
  images: string[];
  /** max |got − expected| over pixel_values. */
  maxAbsDiff: number;
  /** Elements with |got − expected| > tolerance. */
  mismatches: number;
  /** Human-readable problems (shape, grid, sizes, placeholder count); empty when everything matches. */
  problems: string[];
}

/** The README's pixel_values tolerance (Pillow's resample is integer arithmetic: effectively exact). */
export const PIXEL_VALUES_TOLERANCE = 1e-5;

interface CaseJson {
  model: string;
  images?: string[];
  input_ids: number[];
  media_placeholder_token_id: number;
  image_grid_hws?: [number, number][];
  images_info?: {
    size_wh: [number, number];
    resized_wh: [number, number];
    padded_wh: [number, number];
    placeholder_tokens: number;
  }[];
  expected: { pixel_values?: { file: string; shape: number[] } };
}

/** POSIX-style join that resolves `.` and `..` (the case files use paths like ../../images/x.png). */
export function joinPath(dir: string, rel: string): string {
  const parts: string[] = [];
  for (const seg of `${dir}/${rel}`.split('/')) {
    if (
      seg === '..' &&
      parts.length > 0 &&
      parts[parts.length - 1] !== '..' &&
      parts[parts.length - 1] !== ''
    )
      parts.pop();
    else if (seg !== '.' && !(seg === '' && parts.length > 0)) parts.push(seg);
  }
  return parts.join('/');
}

/** Returns null for cases without images (text-only), else the comparison report. */
export async function checkGoldenPixels(
  caseDir: string,
  read: ReadBytes,
  decode: (bytes: Uint8Array) => Promise<RgbaImage> = decodePng,
): Promise<GoldenPixelsReport | null> {
  const text = async (path: string) => new TextDecoder().decode(await read(path));
  const c = JSON.parse(await text(joinPath(caseDir, 'case.json'))) as CaseJson;
  const images = c.images ?? [];
  const expectedEntry = c.expected.pixel_values;
  if (images.length === 0 || !expectedEntry) return null;
  const modelDir = joinPath(caseDir, c.model);
  const cfg = parsePreprocessorConfig(JSON.parse(await text(joinPath(modelDir, 'preprocessor_config.json'))));
  const decoded = await Promise.all(images.map(async (f) => decode(await read(joinPath(caseDir, f)))));
  const got = preprocessImages(decoded, cfg);
  const problems: string[] = [];

  const expectedBytes = await read(joinPath(caseDir, expectedEntry.file));
  // Little-endian float32 on every platform we run on; a ragged tail is reported, not thrown.
  const expected = new Float32Array(
    expectedBytes.slice(0, expectedBytes.length - (expectedBytes.length % 4)).buffer,
  );
  if (expectedBytes.length % 4 !== 0)
    problems.push(`${expectedEntry.file} is ${expectedBytes.length} bytes, not whole float32s`);
  const expectedCount = expectedEntry.shape.reduce((a, b) => a * b, 1);
  if (expected.length !== expectedCount)
    problems.push(`${expectedEntry.file} holds ${expected.length} floats, shape says ${expectedCount}`);
  if (got.pixelValues.length !== expected.length) {
    problems.push(
      `pixel_values: got ${got.pixelValues.length} floats [${got.pixelValues.length / 588}, 3, 14, 14], expected ${expected.length} [${expectedEntry.shape}]`,
    );
  }
  let maxAbsDiff = 0;
  let mismatches = 0;
  const n = Math.min(expected.length, got.pixelValues.length);
  for (let i = 0; i < n; i++) {
    const d = Math.abs(got.pixelValues[i] - expected[i]);
    if (!(d <= PIXEL_VALUES_TOLERANCE)) mismatches++;
    if (d > maxAbsDiff || Number.isNaN(d)) maxAbsDiff = Number.isNaN(d) ? Number.POSITIVE_INFINITY : d;
  }

  const grids = got.grids.map((g) => [g.h, g.w]);
  if (c.image_grid_hws && JSON.stringify(grids) !== JSON.stringify(c.image_grid_hws)) {
    problems.push(
      `image_grid_hws: got ${JSON.stringify(grids)}, expected ${JSON.stringify(c.image_grid_hws)}`,
    );
  }
  c.images_info?.forEach((info, i) => {
    const plan = got.images[i];
    const mine = {
      size_wh: [decoded[i]?.width, decoded[i]?.height],
      resized_wh: plan?.resizedWH,
      padded_wh: plan?.paddedWH,
      placeholder_tokens: plan?.nTokens,
    };
    const theirs = {
      size_wh: info.size_wh,
      resized_wh: info.resized_wh,
      padded_wh: info.padded_wh,
      placeholder_tokens: info.placeholder_tokens,
    };
    if (JSON.stringify(mine) !== JSON.stringify(theirs))
      problems.push(`images_info[${i}]: got ${JSON.stringify(mine)}, expected ${JSON.stringify(theirs)}`);
  });
  const placeholders = c.input_ids.filter((id) => id === c.media_placeholder_token_id).length;
  const tokens = got.nTokens.reduce((a, b) => a + b, 0);
  if (placeholders !== tokens)
    problems.push(`placeholders: input_ids has ${placeholders}, our grids give ${tokens}`);
  return { caseDir, images, maxAbsDiff, mismatches, problems };
}
