// The golden case format (../shared/golden/README.md): case.json beside raw little-endian f32 tensors.
// parseCase is the one parser of case.json; reader.ts reads cases and their tensors through a GoldenIO.
import { KimiVLError } from '../errors.ts';

export interface GoldenTensorRef {
  file: string;
  dtype: 'float32';
  shape: number[];
}

export interface GoldenCase {
  name: string;
  /** Absolute folder of the case. */
  dir: string;
  /** Absolute model folder. */
  modelDir: string;
  /** Absolute image paths in prompt order. */
  images: string[];
  inputIds: number[];
  grids: Array<{ h: number; w: number }>;
  placeholderId: number;
  placeholderCounts: number[];
  /** Per image: the sizes the reference preprocessing went through (case.json `images_info`). */
  imagesInfo: GoldenImageInfo[];
  expected: {
    pixelValues?: GoldenTensorRef;
    visionTowerOut?: GoldenTensorRef;
    imageFeatures?: GoldenTensorRef;
    logits?: GoldenTensorRef;
    stepLogits?: GoldenTensorRef;
    newTokens: number[];
  };
  /** Intermediates for localising a failure: the interpolated position table, the prompt's routed experts. */
  debug: { posEmb?: GoldenTensorRef; routing?: GoldenRouting };
  tolerance: { pixelValuesMaxAbs: number; floatMaxRel: number };
}

export interface GoldenImageInfo {
  sizeWH: [number, number];
  resizedWH: [number, number];
  paddedWH: [number, number];
  placeholderTokens: number;
}

/** The prompt's routed experts: per MoE layer, per prompt position, the sorted expert ids. */
export interface GoldenRouting {
  moeLayers: number[];
  experts: number[][][];
}

type VisionExpected = Required<
  Pick<GoldenCase['expected'], 'pixelValues' | 'visionTowerOut' | 'imageFeatures'>
>;
/** A case with the vision tower's goldens (every case with images; text-only cases have none). */
export type VisionCase = GoldenCase & { expected: VisionExpected };

export function hasVisionGoldens(c: GoldenCase): c is VisionCase {
  return !!(c.expected.pixelValues && c.expected.visionTowerOut && c.expected.imageFeatures);
}

/** POSIX path join that resolves `..` (works in the browser, where node:path is absent). */
export function joinPath(base: string, rel: string): string {
  if (rel.startsWith('/')) return rel;
  const parts = base.split('/');
  for (const seg of rel.split('/')) {
    if (seg === '..') parts.pop();
    else if (seg !== '.' && seg !== '') parts.push(seg);
  }
  return parts.join('/') || '/';
}

function fail(name: string, what: string): never {
  throw new KimiVLError('CheckpointError', `golden case ${name}: ${what}`);
}

function tensorRef(name: string, v: unknown): GoldenTensorRef | undefined {
  if (v === undefined) return undefined;
  const r = v as Partial<GoldenTensorRef>;
  if (typeof r.file !== 'string' || !Array.isArray(r.shape) || r.dtype !== 'float32')
    fail(name, 'bad tensor entry');
  return { file: r.file, dtype: 'float32', shape: r.shape };
}

export function parseCase(name: string, dir: string, json: unknown): GoldenCase {
  const c = json as Record<string, unknown>;
  if (typeof c !== 'object' || c === null) fail(name, 'case.json is not an object');
  if (typeof c.model !== 'string') fail(name, 'missing "model"');
  if (!Array.isArray(c.input_ids)) fail(name, 'missing "input_ids"');
  const exp = (c.expected ?? {}) as Record<string, unknown>;
  const tol = (c.tolerance ?? {}) as Record<string, unknown>;
  const infos = (c.images_info ?? []) as Array<Record<string, unknown>>;
  const dbg = (c.debug ?? {}) as Record<string, unknown>;
  const routing = dbg.routing_prompt as { moe_layers: number[]; experts: number[][][] } | undefined;
  const grids = ((c.image_grid_hws ?? []) as number[][]).map(([h, w]) => ({ h: h!, w: w! }));
  return {
    name,
    dir,
    modelDir: joinPath(dir, c.model),
    images: ((c.images ?? []) as string[]).map((p) => joinPath(dir, p)),
    inputIds: c.input_ids as number[],
    grids,
    placeholderId: Number(c.media_placeholder_token_id),
    placeholderCounts: grids.map((g, i) => (infos[i]?.placeholder_tokens as number) ?? (g.h * g.w) / 4),
    imagesInfo: infos.map((i) => ({
      sizeWH: i.size_wh as [number, number],
      resizedWH: i.resized_wh as [number, number],
      paddedWH: i.padded_wh as [number, number],
      placeholderTokens: i.placeholder_tokens as number,
    })),
    expected: {
      pixelValues: tensorRef(name, exp.pixel_values),
      visionTowerOut: tensorRef(name, exp.vision_tower_out),
      imageFeatures: tensorRef(name, exp.image_features),
      logits: tensorRef(name, exp.logits),
      stepLogits: tensorRef(name, exp.step_logits),
      newTokens: (exp.new_tokens as number[] | undefined) ?? [],
    },
    debug: {
      posEmb: tensorRef(name, dbg.pos_emb),
      routing: routing && { moeLayers: routing.moe_layers, experts: routing.experts },
    },
    tolerance: {
      pixelValuesMaxAbs: Number(tol.pixel_values_max_abs ?? 1e-5),
      floatMaxRel: Number(tol.float_max_abs_over_max_abs_expected ?? 1e-4),
    },
  };
}

/** A [L, …] tensor's shape viewed as the matrix [L, rest]: pixel_values [L, 3, 14, 14] as [L, 588]. */
export function matrixShape(ref: GoldenTensorRef): [number, number] {
  return [ref.shape[0]!, ref.shape.slice(1).reduce((a, b) => a * b, 1)];
}

/** Little-endian f32 bytes as floats (copied only when unaligned); a ragged tail of < 4 bytes is dropped. */
export function f32FromBytes(bytes: Uint8Array): Float32Array {
  const copy = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  return new Float32Array(copy.buffer, copy.byteOffset, copy.byteLength >> 2);
}
