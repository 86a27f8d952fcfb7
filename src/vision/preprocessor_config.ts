// preprocessor_config.json (KimiVLImageProcessor) → ImageProcessorConfig, parsed together with
// config.json before any shard is fetched (load preflight), so a bad file costs one small request.
//
// A missing field takes the default HF's class takes (image_processing_kimi_vl.py __init__): a file HF
// loads must load here too. Present fields are bounded; every error is a ConfigError naming the field.
// Note the class defaults are not the released files' values (pad_input false, CLIP mean/std): a file
// that omits pad_input gets HF's center-crop branch, which planImage refuses when an image arrives.
import type { ImageProcessorConfig } from '../config/config.ts';
import { KimiVLError } from '../errors.ts';
import { MAX_GRID_SIDE } from './preprocess.ts';

export const PREPROCESSOR_FILE = 'preprocessor_config.json';

/** KimiVLImageProcessor's constructor defaults (OpenAI CLIP mean/std). */
export const HF_PREPROCESSOR_DEFAULTS: ImageProcessorConfig = {
  patchSize: 14,
  inTokenLimit: 4096,
  mergeKernelSize: [2, 2],
  padInput: false,
  imageMean: [0.48145466, 0.4578275, 0.40821073],
  imageStd: [0.26862954, 0.26130258, 0.27577711],
};

/** Largest in_token_limit whose downscaled image still has a patch grid below MAX_GRID_SIDE a side. */
const MAX_IN_TOKEN_LIMIT = (MAX_GRID_SIDE - 1) ** 2;

type Obj = Record<string, unknown>;

function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

export function parsePreprocessorConfig(json: unknown, fileName = PREPROCESSOR_FILE): ImageProcessorConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new KimiVLError('ConfigError', `${fileName} must be a JSON object, got ${show(json)}`);
  const o = json as Obj;
  const fail = (key: string, what: string): never => {
    throw new KimiVLError('ConfigError', `${fileName}: ${key} ${what}`);
  };
  const present = (key: string) => Object.hasOwn(o, key) && o[key] !== undefined && o[key] !== null;
  const int = (key: string, dflt: number, min: number, max: number): number => {
    if (!present(key)) return dflt;
    const v = o[key];
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) fail(key, `must be an integer, got ${show(v)}`);
    if ((v as number) < min || (v as number) > max) fail(key, `must be in ${min}..${max}, got ${v}`);
    return v as number;
  };
  const triple = (key: string, dflt: [number, number, number], positive: boolean) => {
    if (!present(key)) return dflt;
    const v = o[key];
    if (!Array.isArray(v) || v.length !== 3 || v.some((x) => typeof x !== 'number' || !Number.isFinite(x)))
      fail(key, `must be an array of 3 numbers, got ${show(v)}`);
    const t = v as [number, number, number];
    if (positive && t.some((x) => x <= 0)) fail(key, 'must be > 0 in every channel');
    if (t.some((x) => Math.abs(x) > 1e3)) fail(key, `is out of range (|value| ≤ 1000), got ${show(v)}`);
    return t;
  };
  if (present('image_processor_type') && o.image_processor_type !== 'KimiVLImageProcessor')
    fail(
      'image_processor_type',
      `is ${show(o.image_processor_type)}; kimi-vl-web implements only "KimiVLImageProcessor"`,
    );
  if (present('merge_kernel_size')) {
    const m = o.merge_kernel_size;
    if (!Array.isArray(m) || m.length !== 2 || m[0] !== 2 || m[1] !== 2)
      fail('merge_kernel_size', `is ${show(m)}; kimi-vl-web implements only the 2×2 patch merge`);
  }
  if (present('pad_input') && typeof o.pad_input !== 'boolean')
    fail('pad_input', `must be true or false, got ${show(o.pad_input)}`);
  const d = HF_PREPROCESSOR_DEFAULTS;
  return {
    patchSize: int('patch_size', d.patchSize, 1, 64),
    inTokenLimit: int('in_token_limit', d.inTokenLimit, 4, MAX_IN_TOKEN_LIMIT),
    mergeKernelSize: [2, 2],
    padInput: present('pad_input') ? (o.pad_input as boolean) : d.padInput,
    imageMean: triple('image_mean', d.imageMean, false),
    imageStd: triple('image_std', d.imageStd, true),
  };
}

/** Upper bound on the tokens of one image after the preprocessor (merged 2×2 patches). */
export function maxImageTokens(pre: Pick<ImageProcessorConfig, 'inTokenLimit'>): number {
  // After the downscale the w0×h0 whole-patch grid has w0·h0 ≤ L; padding to 28 px makes each side at
  // most w0 + 2 patches, so ⌈…/2⌉ tokens a side: ≤ (w0·h0 + 2·(w0 + h0) + 4) / 4, with w0, h0 < MAX_GRID_SIDE.
  const side = MAX_GRID_SIDE - 1;
  const L = pre.inTokenLimit;
  return Math.ceil((L + 2 * (side + Math.ceil(L / side)) + 4) / 4);
}
