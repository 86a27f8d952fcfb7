// Seeded random and extreme config.json files thrown at the checkpoint opener (config parse, bounds,
// tensor-count and shape checks), shared by the Node fuzz test (config_fuzz.test.ts, ≥ 1,000 cases) and
// the browser one (config_fuzz.browser.test.ts, ≥ 100). Each case opens an in-memory checkpoint whose
// shard holds the tensors of the bundled tiny model (public/models/kimi-vl-tiny) while its config.json is
// mutated; the only acceptable outcomes are a good open or a ConfigError / CheckpointError, in bounded
// time and with the tensor lookups bounded by what the shard holds.

import realConfig from '../../configs/Kimi-VL-A3B-Instruct.config.json';
import tinyConfig from '../../public/models/kimi-vl-tiny/config.json';
import { CONFIG_BOUNDS } from '../config/bounds.ts';
import { parseConfig } from '../config/config.ts';
import { weightTable } from '../config/weight_names.ts';
import { isKimiVLError } from '../errors.ts';
import { type CheckpointFiles, openCheckpoint } from '../weights/checkpoint.ts';
import { mulberry32 } from './random.ts';

type Json = Record<string, unknown>;

/** The bundled tiny model's config.json, unchanged (the base every case mutates). */
export function tinyConfigJson(): Json {
  return clone(tinyConfig as Json);
}

/** Values that broke parsers somewhere: zero, negatives, fractions, huge, non-finite, wrong types. */
const EXTREMES: unknown[] = [
  0,
  -1,
  1,
  2,
  3,
  7,
  0.5,
  -0,
  1e6,
  1e9,
  2 ** 31,
  2 ** 32 + 1,
  2 ** 53,
  1e308,
  -1e308,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  null,
  true,
  '64',
  '',
  [],
  {},
  [2, 2],
  'kimi_vl',
];

/** Every numeric field the parser reads, as [object path, key] (the bounded ones and the token ids). */
const NUMERIC_FIELDS: Array<[string, string]> = [
  ...Object.entries(CONFIG_BOUNDS).flatMap(([path, b]) =>
    Object.keys(b).map((k): [string, string] => [path, k]),
  ),
  ['text_config.', 'bos_token_id'],
  ['text_config.', 'eos_token_id'],
  ['text_config.', 'pad_token_id'],
  ['', 'media_placeholder_token_id'],
];

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

function objectAt(root: Json, path: string): Json | null {
  let o: unknown = root;
  for (const k of path.split('.').filter(Boolean)) {
    if (typeof o !== 'object' || o === null) return null;
    const obj = o as Json;
    if (k === 'rope_scaling' && (obj[k] === null || obj[k] === undefined))
      obj[k] = { type: 'yarn', factor: 4, original_max_position_embeddings: 4096 };
    o = obj[k];
  }
  return typeof o === 'object' && o !== null && !Array.isArray(o) ? (o as Json) : null;
}

export interface FuzzCase {
  seed: number;
  /** What was changed, for the failure message. */
  edits: string[];
  config: unknown;
}

/** One seeded case: the tiny config with 1–4 edits (extremes, random sizes up to twice the bound, junk). */
export function fuzzCase(seed: number): FuzzCase {
  const r = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const edits: string[] = [];
  // A few cases start from the real model's config (parse-only in effect: the tiny shard cannot match).
  const base = clone((r() < 0.1 ? realConfig : tinyConfig) as Json);
  const roll = r();
  if (roll < 0.03) return { seed, edits: ['whole file junk'], config: pick(EXTREMES) };
  if (roll < 0.08) {
    const key = pick(['vision_config', 'text_config', 'model_type']);
    base[key] = pick(EXTREMES);
    return { seed, edits: [`${key} = ${String(base[key])}`], config: base };
  }
  const n = 1 + Math.floor(r() * 4);
  for (let i = 0; i < n; i++) {
    const [path, key] = pick(NUMERIC_FIELDS);
    const obj = objectAt(base, path);
    if (!obj) continue;
    const bound = CONFIG_BOUNDS[path]?.[key];
    const kind = r();
    let v: unknown;
    if (kind < 0.4) v = pick(EXTREMES);
    else if (kind < 0.7 && bound) v = Math.floor(r() * 2 * bound.max) + (bound.real ? r() : 0);
    else if (kind < 0.85 && bound)
      v = bound.max + pick([0, 1]); // the bound itself and one past it
    else if (typeof obj[key] === 'number') v = (obj[key] as number) + pick([-2, -1, 1, 2, 8]);
    else v = pick(EXTREMES);
    if (kind > 0.97) delete obj[key];
    else obj[key] = v;
    edits.push(`${path}${key} = ${kind > 0.97 ? '(deleted)' : String(v)}`);
  }
  return { seed, edits, config: base };
}

function encodeSafetensors(tensors: Array<{ name: string; shape: number[] }>): Uint8Array {
  const header: Json = {};
  let offset = 0;
  for (const t of tensors) {
    const bytes = t.shape.reduce((a, b) => a * b, 1) * 2;
    header[t.name] = { dtype: 'BF16', shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const text = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(text.byteLength / 8) * 8;
  const out = new Uint8Array(8 + padded + offset).fill(0x20, 8, 8 + padded);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(text, 8);
  return out; // tensor bytes are zeros: only headers are read here
}

let tinyShard: Uint8Array | null = null;

/** model.safetensors holding every tensor of the tiny model (HF names and shapes), data zeroed. */
function shard(): Uint8Array {
  tinyShard ??= encodeSafetensors(
    weightTable(parseConfig(tinyConfig)).flatMap((s) => s.hf.map((name) => ({ name, shape: s.hfShape }))),
  );
  return tinyShard;
}

export interface LookupCounter {
  /** readRange calls and bytes served. */
  reads: number;
  bytes: number;
}

/** A one-folder checkpoint in memory: `config` as config.json, the tiny model's shard. */
export function memoryCheckpoint(config: unknown, counter: LookupCounter): CheckpointFiles {
  const text = JSON.stringify(config) ?? 'undefined';
  const files = new Map<string, Uint8Array>([
    ['config.json', new TextEncoder().encode(text)],
    ['model.safetensors', shard()],
  ]);
  const get = (f: string) => {
    const b = files.get(f);
    if (!b) throw new Error(`no ${f}`);
    return b;
  };
  return {
    location: 'memory://fuzz',
    exists: async (f) => files.has(f),
    size: async (f) => get(f).byteLength,
    readRange: async (f, start, end) => {
      counter.reads++;
      counter.bytes += end - start;
      return get(f).slice(start, end);
    },
    readText: async (f) => new TextDecoder().decode(get(f)),
  };
}

export interface FuzzOutcome {
  seed: number;
  edits: string[];
  /** 'ok', or the typed error's name. */
  outcome: string;
  message: string;
  ms: number;
  /** Bytes read from the checkpoint: never more than the shard (headers only, in fact). */
  bytesRead: number;
}

/** Runs one case through openCheckpoint; an untyped error is reported as outcome 'untyped:<name>'. */
export async function runFuzzCase(seed: number): Promise<FuzzOutcome> {
  const c = fuzzCase(seed);
  const counter: LookupCounter = { reads: 0, bytes: 0 };
  const t0 = performance.now();
  let outcome = 'ok';
  let message = '';
  try {
    await openCheckpoint(memoryCheckpoint(c.config, counter));
  } catch (e) {
    const err = e as Error;
    outcome = isKimiVLError(e) ? err.name : `untyped:${err?.name}`;
    message = err?.message ?? String(e);
  }
  return { seed, edits: c.edits, outcome, message, ms: performance.now() - t0, bytesRead: counter.bytes };
}

/** The outcomes a malformed config may have. */
export const ALLOWED_OUTCOMES = ['ok', 'ConfigError', 'CheckpointError'];

/** Bytes of the in-memory shard (the read bound). */
export function shardBytes(): number {
  return shard().byteLength;
}
