// Preflight: will this model run here, and what will it cost? `KimiVL.check` and `kimi-vl check`
// answer from config.json, the index or manifest, the shard sizes (tiny Range probes), the browser cache
// and the adapter's limits: kilobytes fetched, no weight. The load uses the same pieces (metaFiles +
// readModelMeta + fitModel) to stop before any shard is requested.
import { KimiVLError } from '../errors.ts';
import type { AssembleOptions } from './assemble.ts';
import { ModelCacheEntry, opfsAvailable } from './cache.ts';
import { cacheEntryFiles, localFiles } from './cache_files.ts';
import type { CheckpointFiles } from './checkpoint.ts';
import { windowBytes } from './convert_schedule.ts';
import { convertedForm, convertedId } from './load_convert.ts';
import type { DeviceLimits } from './memory_plan.ts';
import { defaultContextBudget, fitModel, planQuantFor, type Quantization } from './preflight_fit.ts';
import { type ModelMeta, readModelMeta } from './preflight_meta.ts';
import { type ModelSource, type ResolvedSource, resolveSource } from './source.ts';
import { urlFiles } from './url_files.ts';

/** Where the small files are read from: the cache when it holds the model, else the source itself. */
export type CacheState = 'converted' | 'original' | 'partial' | 'none';

export interface MetaFiles {
  files: CheckpointFiles;
  cached: CacheState;
  /** Bytes of the source's shards the cache already holds complete (when partial). */
  cachedShardBytes: number;
}

export function assembleFor(q: Quantization): AssembleOptions {
  return { quant: q, f16: 'none' };
}

/** The files a load of `src` at `assemble` would read its small files from, and the cache's state. */
export async function metaFiles(
  src: ResolvedSource,
  assemble: AssembleOptions,
  fetchImpl: typeof fetch = globalThis.fetch.bind(globalThis),
): Promise<MetaFiles> {
  if (src.kind === 'local')
    return {
      files: localFiles(`the selected files (${src.id})`, src.files),
      cached: 'none',
      cachedShardBytes: 0,
    };
  const form = convertedForm(assemble);
  if (opfsAvailable()) {
    if (form) {
      const conv = await ModelCacheEntry.find(convertedId(src.id, assemble));
      if (conv?.record.complete)
        return { files: cacheEntryFiles(conv), cached: 'converted', cachedShardBytes: 0 };
    }
    const orig = await ModelCacheEntry.find(src.id);
    if (orig?.record.complete)
      return { files: cacheEntryFiles(orig), cached: 'original', cachedShardBytes: 0 };
    if (orig) {
      const cachedShardBytes = Object.entries(orig.record.files)
        .filter(([n, f]) => f.complete && n.endsWith('.safetensors'))
        .reduce((a, [, f]) => a + f.size, 0);
      return { files: urlFiles(src.baseUrl, fetchImpl), cached: 'partial', cachedShardBytes };
    }
  }
  return { files: urlFiles(src.baseUrl, fetchImpl), cached: 'none', cachedShardBytes: 0 };
}

export interface AdapterSummary {
  description: string;
  isFallbackAdapter: boolean;
  limits: DeviceLimits;
}

export interface CheckOptions {
  /** As for load: 'none' (weights as stored, the default), 'q8' or 'q4'. */
  quantization?: Quantization;
  /** KV positions; default: room for one maximum-size image plus a prompt (defaultContextBudget). */
  contextBudget?: number;
  /** Treat these (smaller) limits as the adapter's, as the engine's `limits` option does. */
  limits?: Partial<DeviceLimits>;
  hubUrl?: string;
  fetch?: typeof fetch;
  /** The adapter to judge against; by default the one `navigator.gpu` gives (null when none). */
  adapter?: AdapterSummary | null;
}

export interface CheckReport {
  /** The model runs here as asked (adapter limits; storage and memory are reported, not judged). */
  fits: boolean;
  reasons: string[];
  id: string;
  format: ModelMeta['format'];
  quantization: Quantization;
  contextBudget: number;
  /** Bytes still to download (0 when cached). */
  downloadBytes: number;
  /** Browser storage the model occupies once loaded (the converted form only, for q8/q4 of a bf16 original). */
  storageBytes: number;
  /** Storage at the peak of a first load, at most (two original shards beside the converted form). */
  peakStorageBytes: number;
  /** GPU memory: weights + KV cache + activation estimate. */
  gpuBytes: number;
  largestBinding: { name: string; bytes: number };
  /** 'converted' / 'original': a load needs no network; 'partial': a download resumes. */
  cached: CacheState;
  adapter: AdapterSummary | null;
}

/** The adapter `navigator.gpu` offers (no device is created), or null without WebGPU. */
export async function currentAdapter(): Promise<AdapterSummary | null> {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  const adapter = gpu ? await gpu.requestAdapter({ powerPreference: 'high-performance' }) : null;
  if (!adapter) return null;
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  return {
    description: [info.vendor, info.architecture, info.description].filter(Boolean).join(' ') || 'unknown',
    isFallbackAdapter: info.isFallbackAdapter ?? false,
    limits: {
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
    },
  };
}

function capped(a: AdapterSummary | null, cap?: Partial<DeviceLimits>): DeviceLimits | null {
  if (!a) return null;
  const low = (x: number, y?: number) => (y !== undefined && y > 0 ? Math.min(x, y) : x);
  return {
    maxStorageBufferBindingSize: low(a.limits.maxStorageBufferBindingSize, cap?.maxStorageBufferBindingSize),
    maxBufferSize: low(a.limits.maxBufferSize, cap?.maxBufferSize),
  };
}

/** The preflight verdict for `source` (see CheckReport). Throws what a load would for a bad model. */
export async function checkModel(source: ModelSource, opts: CheckOptions = {}): Promise<CheckReport> {
  const quantization = opts.quantization ?? 'none';
  if (!['none', 'q8', 'q4'].includes(quantization))
    throw new KimiVLError(
      'ConfigError',
      `quantization must be 'none', 'q8' or 'q4', got ${String(quantization)}`,
    );
  const src = await resolveSource(source, { hubUrl: opts.hubUrl });
  const assemble = assembleFor(quantization);
  const mf = await metaFiles(src, assemble, opts.fetch);
  const meta = await readModelMeta(mf.files, { sizes: true });
  const adapter = opts.adapter !== undefined ? opts.adapter : await currentAdapter();
  const contextBudget = opts.contextBudget ?? defaultContextBudget(meta.config, meta.preprocessor);
  const fit = fitModel({
    config: meta.config,
    preprocessor: meta.preprocessor,
    quant: planQuantFor(quantization, meta.stored),
    context: contextBudget,
    limits: capped(adapter, opts.limits),
  });
  if (!adapter) fit.reasons.unshift('no WebGPU adapter: this browser cannot run the model');
  const shardBytes = meta.shards.reduce((a, s) => a + (s.size ?? 0), 0);
  const converts = meta.format === 'hf' && convertedForm(assemble) !== null;
  // The converted form: the GPU weight bytes, as the converted shards hold them (headers are kilobytes).
  const convertedBytes = converts ? fit.plan.weightBytes : 0;
  const local = src.kind === 'local';
  const inCache = mf.cached === 'converted' || mf.cached === 'original';
  const downloadBytes = local || inCache ? 0 : Math.max(0, shardBytes - mf.cachedShardBytes);
  const storageBytes = local ? 0 : converts ? convertedBytes : shardBytes;
  // Converting while the shards arrive (load_stream.ts) holds at most STREAM_WINDOW original shards beside
  // the growing copy: this bound needs only the shard sizes (the exact schedule, convert_schedule.ts, is
  // lower: 17.7 GB for the real q4 against 19.9 GB here). The old way, original + copy, is the ceiling.
  const window = windowBytes(meta.shards.map((s) => s.size ?? 0));
  const peakStorageBytes =
    local || mf.cached === 'converted'
      ? storageBytes
      : converts
        ? Math.min(shardBytes, window) + convertedBytes
        : shardBytes;
  return {
    fits: fit.fits && adapter !== null,
    reasons: fit.reasons,
    id: src.id,
    format: meta.format,
    quantization,
    contextBudget,
    downloadBytes,
    storageBytes,
    peakStorageBytes,
    gpuBytes: fit.gpuBytes,
    largestBinding: fit.largestBinding,
    cached: mf.cached,
    adapter,
  };
}
