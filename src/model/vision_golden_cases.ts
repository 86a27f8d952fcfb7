// Golden cases with images (../shared/golden/cases/*), read for the vision tower tests in Node and in the
// browser. Reading is injected (fs in Node, fetch('/@fs/…') in the browser) so one list drives both.
import type { Grid } from '../kernels/types.ts';

export interface GoldenTensorEntry {
  file: string;
  shape: number[];
}

export interface VisionGoldenCase {
  name: string;
  /** Absolute folder of the case. */
  dir: string;
  /** Absolute model folder (case.json's `model`, resolved). */
  modelDir: string;
  grids: Grid[];
  pixelValues: GoldenTensorEntry;
  visionTowerOut: GoldenTensorEntry;
  imageFeatures: GoldenTensorEntry;
  posEmb: GoldenTensorEntry | null;
}

interface CaseJson {
  model: string;
  image_grid_hws: Array<[number, number]>;
  expected: Record<string, GoldenTensorEntry | unknown>;
  debug?: Record<string, GoldenTensorEntry | unknown>;
}

/** Joins and normalises a POSIX path (no node:path, so this runs in the browser too). */
export function resolvePosix(base: string, rel: string): string {
  const parts = rel.startsWith('/') ? [] : base.split('/');
  for (const p of rel.split('/')) {
    if (p === '..') parts.pop();
    else if (p !== '.' && p !== '') parts.push(p);
  }
  return `/${parts.filter((p) => p !== '').join('/')}`;
}

/** Parses one case.json; null for text-only cases (no pixel_values). */
export function parseVisionCase(name: string, dir: string, json: unknown): VisionGoldenCase | null {
  const c = json as CaseJson;
  const exp = c.expected as Record<string, GoldenTensorEntry | undefined>;
  if (!exp.pixel_values || !exp.vision_tower_out || !exp.image_features) return null;
  const pv = exp.pixel_values;
  return {
    name,
    dir,
    modelDir: resolvePosix(dir, c.model),
    grids: c.image_grid_hws.map(([h, w]) => ({ h, w })),
    // [L, 3, 14, 14] viewed as [L, 588]: the (c, y, x) order the patch-embed weight is flattened in.
    pixelValues: { file: pv.file, shape: [pv.shape[0]!, pv.shape.slice(1).reduce((a, b) => a * b, 1)] },
    visionTowerOut: exp.vision_tower_out,
    imageFeatures: exp.image_features,
    posEmb: (c.debug?.pos_emb as GoldenTensorEntry | undefined) ?? null,
  };
}

/** max |got − exp| / max |exp|: the goldens' per-tensor float metric (README "Tolerances"). */
export function maxRelError(got: ArrayLike<number>, exp: ArrayLike<number>): number {
  if (got.length !== exp.length) return Number.POSITIVE_INFINITY;
  let num = 0;
  let den = 0;
  for (let i = 0; i < exp.length; i++) {
    const d = Math.abs(got[i]! - exp[i]!);
    num = Number.isNaN(d) ? Number.POSITIVE_INFINITY : Math.max(num, d);
    den = Math.max(den, Math.abs(exp[i]!));
  }
  return num / den;
}

export const GOLDEN_FLOAT_TOLERANCE = 1e-4;

/** Little-endian f32 .bin → Float32Array (copying, so the bytes need no alignment). */
export function f32FromBytes(bytes: Uint8Array): Float32Array {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new Float32Array(copy.buffer);
}
