// loadModel: the browser's way in. Takes any ModelSource (HF repo id, HTTP folder, local files),
// goes through the OPFS cache for remote sources (load_remote.ts), validates with the same code as
// Node (checkpoint.ts), optionally converts a bf16 original to q8/q4/f16 once and caches the result
// (load_convert.ts; without keepOriginal while the shards arrive, load_stream.ts, so the bf16 original
// never sits whole in the cache), and hands the engine a validated checkpoint whose weights() yields
// [engine name, HostWeight] via assembleWeights.
//
//   const m = await loadModel('moonshotai/Kimi-VL-A3B-Instruct', { quant: 'q4', onProgress, signal });
//   for await (const [name, w] of m.weights()) kernels.uploadWeight(w);

import type { ImageProcessorConfig, KimiVLConfig } from '../config/config.ts';
import { isKimiVLError, KimiVLError } from '../errors.ts';
import type { HostWeight } from '../tensor/types.ts';
import { type AssembleOptions, assembleWeights } from './assemble.ts';
import { ModelCacheEntry, opfsAvailable } from './cache.ts';
import { localFiles } from './cache_files.ts';
import { type OpenedCheckpoint, openCheckpoint } from './checkpoint.ts';
import { abortError, type TransportOptions } from './fetch.ts';
import { convertedForm, convertedId, convertIntoCache } from './load_convert.ts';
import { type ProgressCallback, ProgressTracker } from './load_progress.ts';
import {
  CONVERTED_SIZE_RATIO,
  downloadModel,
  isValidationError,
  openCachedEntry,
  type PreparedDownload,
  prepareDownload,
  type RemoteContext,
  verifyEntry,
  withHubFiles,
} from './load_remote.ts';
import { streamConvert } from './load_stream.ts';
import type { Manifest } from './manifest.ts';
import { metaFiles } from './preflight.ts';
import { type ModelMeta, readModelMeta } from './preflight_meta.ts';
import { type ModelSource, type RemoteModel, resolveSource } from './source.ts';

export { deleteCachedModel, listCachedModels } from './cache.ts';
export type { LoadProgress, ProgressCallback } from './load_progress.ts';
export type { ModelSource } from './source.ts';

export interface LoadOptions {
  /** Quantise the LM's linear weights (from a bf16 source the converted form is cached). Default 'none'. */
  quant?: AssembleOptions['quant'];
  /** bf16 → f16 for vision/projector ('vision') or every weight ('all'). Default 'none'. */
  f16?: AssembleOptions['f16'];
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
  /** Hub for repo ids (default https://huggingface.co); a mirror or a test server. */
  hubUrl?: string;
  /** Files downloaded in parallel. Default 4. */
  concurrency?: number;
  /** A download that receives nothing for this long fails (and is retried, resuming). Default 30 s. */
  stallTimeoutMs?: number;
  /** Attempts per file for transient failures. Default 4. */
  maxAttempts?: number;
  /**
   * Cached files: 'sha256' (default) checks sizes + the record made when they were written, and every
   * byte against its recorded sha256 as it is read for use (no extra pass); 'full' also re-hashes
   * every file first; 'size' is the default's old name.
   */
  verify?: 'sha256' | 'full' | 'size';
  /**
   * Keep the bf16 original in the cache after caching a converted form. Default false: a q4 load of the
   * real model then stores its 9.9 GB converted form only, not the 32.8 GB original beside it.
   */
  keepOriginal?: boolean;
  /** fetch to use (tests, service workers). */
  fetch?: typeof fetch;
  /**
   * Called with the model's small files parsed (config, preprocessor, index/manifest) before any shard
   * is requested or read; throwing stops the load there (the engine's GPU-limit check).
   */
  beforeWeights?: (meta: ModelMeta) => void | Promise<void>;
}

export interface LoadedModel {
  /** Cache id of what is read ("hf:org/name@main", "url:…", "…#q8"), or a local id. */
  id: string;
  /** Cache id of the original source (what deleteCachedModel takes). */
  sourceId: string;
  format: OpenedCheckpoint['format'];
  config: KimiVLConfig;
  preprocessor: ImageProcessorConfig | null;
  manifest: Manifest | null;
  /** Validated tensors (HF or engine names). */
  checkpoint: OpenedCheckpoint;
  assemble: AssembleOptions;
  /** Bytes received over the network by this load (0 for a cached load). */
  networkBytes: number;
  /** Side files present (config, tokenizer files, ...). */
  files: string[];
  /** Bytes of a side file such as "tiktoken.model", or null if the model has none. */
  readFile(name: string): Promise<Uint8Array | null>;
  /**
   * A side file the engine rejected (e.g. a tokenizer that parses as JSON but does not build): a cached
   * copy is evicted so the next load fetches it again instead of trusting it (no poisoned cache).
   */
  rejectFile(name: string, why: string): Promise<void>;
  /** Engine weights one at a time (quantised as asked): [engine name, HostWeight]. */
  weights(): AsyncGenerator<[string, HostWeight]>;
  /** All engine weights in memory. */
  loadWeights(): Promise<Map<string, HostWeight>>;
  /** Bytes read from the cache / local files so far (headers and tensors). */
  bytesRead(): number;
}

function finish(
  opened: OpenedCheckpoint,
  ids: { id: string; sourceId: string },
  assemble: AssembleOptions,
  networkBytes: number,
  files: {
    names: string[];
    read(name: string): Promise<Uint8Array>;
    bytesRead(): number;
    evict?(name: string, why: string): Promise<void>;
  },
): LoadedModel {
  const model: LoadedModel = {
    ...ids,
    format: opened.format,
    config: opened.config,
    preprocessor: opened.preprocessor,
    manifest: opened.manifest,
    checkpoint: opened,
    assemble,
    networkBytes,
    files: files.names,
    readFile: async (name) => (files.names.includes(name) ? files.read(name) : null),
    rejectFile: async (name, why) => {
      if (files.names.includes(name)) await files.evict?.(name, why);
    },
    weights: () => assembleWeights(opened.config, opened.source, assemble),
    async loadWeights() {
      const out = new Map<string, HostWeight>();
      for await (const [name, w] of model.weights()) out.set(name, w);
      return out;
    },
    bytesRead: files.bytesRead,
  };
  return model;
}

function sideFileNames(entry: ModelCacheEntry): string[] {
  return Object.entries(entry.record.files)
    .filter(([n, f]) => f.complete && !n.endsWith('.safetensors'))
    .map(([n]) => n);
}

async function fromEntry(
  entry: ModelCacheEntry,
  sourceId: string,
  assemble: AssembleOptions,
  network: number,
) {
  const opened = await openCachedEntry(entry);
  return finish(opened, { id: entry.record.id, sourceId }, assemble, network, {
    names: sideFileNames(entry),
    read: async (name) => new Uint8Array(await (await entry.completeFile(name)).arrayBuffer()),
    bytesRead: opened.bytesRead,
    evict: (name, why) => entry.evictFile(name, why),
  });
}

/** A Hugging Face original whose shard sizes are known can be converted while it downloads. */
function streamable(entry: ModelCacheEntry, p: PreparedDownload): boolean {
  return entry.record.format !== 'manifest' && p.shards.every((s) => s.size !== null);
}

/** Holds a Web Lock per model id so two tabs never write one cache entry at once. */
async function withModelLock<T>(
  id: string,
  signal: AbortSignal | undefined,
  fn: () => Promise<T>,
): Promise<T> {
  const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
  if (!locks?.request) return fn();
  try {
    return await locks.request(`kimi-vl-cache:${id}`, { signal }, fn);
  } catch (e) {
    if ((e as DOMException)?.name === 'AbortError' && !isKimiVLError(e)) throw abortError(signal);
    throw e;
  }
}

async function loadRemote(
  src: RemoteModel,
  opts: LoadOptions,
  assemble: AssembleOptions,
): Promise<LoadedModel> {
  const transport: TransportOptions = {
    signal: opts.signal,
    stallTimeoutMs: opts.stallTimeoutMs ?? 30_000,
    maxAttempts: opts.maxAttempts ?? 4,
    fetchImpl: opts.fetch ?? globalThis.fetch.bind(globalThis),
  };
  const progress = new ProgressTracker(opts.onProgress);
  const form = convertedForm(assemble);
  const ctx: RemoteContext = {
    transport,
    concurrency: Math.max(1, opts.concurrency ?? 4),
    progress,
    verify: opts.verify ?? 'sha256',
    extraRatio: form ? CONVERTED_SIZE_RATIO[form] : 0,
  };

  // 1. A converted copy from an earlier load: the small form, no network.
  if (form) {
    const conv = await ModelCacheEntry.find(convertedId(src.id, assemble));
    if (conv?.record.complete) {
      if ((await verifyEntry(conv, ctx)).length === 0) {
        const m = await fromEntry(conv, src.id, assemble, 0);
        progress.done();
        return m;
      }
      await conv.remove(); // rebuilt from the original below
    }
  }

  // 2. The original: from the cache when complete and intact, else (re)downloaded.
  const entry = await ModelCacheEntry.open(src.id, { source: src.baseUrl, format: 'safetensors' });
  let opened: Awaited<ReturnType<typeof openCachedEntry>>;
  try {
    const wasComplete = entry.record.complete;
    const dropped = await verifyEntry(entry, ctx);
    if (!wasComplete || dropped.length > 0) {
      entry.record.complete = false;
      const dctx = await withHubFiles(src, { ...ctx, repair: wasComplete });
      const prepared = await prepareDownload(src, entry, dctx);
      // Not kept: convert while the shards arrive, so the original never sits whole beside the copy.
      const conv =
        form && opts.keepOriginal !== true && streamable(entry, prepared)
          ? await streamConvert(src, entry, dctx, prepared, assemble)
          : null;
      if (conv) {
        await entry.remove();
        const m = await fromEntry(conv, src.id, assemble, progress.network);
        progress.done();
        return m;
      }
      await downloadModel(src, entry, dctx, prepared);
    }
    progress.startPhase('validate', []);
    opened = await openCachedEntry(entry);
    if (!entry.record.complete) {
      entry.record.complete = true;
      await entry.saveRecord();
    }
  } catch (e) {
    // Invalid content is never kept; interrupted transfers are (resumable partials).
    if (isValidationError(e)) await entry.remove().catch(() => {});
    throw e;
  }

  // 3. Convert once and cache the converted form.
  if (form && opened.format === 'hf') {
    const conv = await convertIntoCache({
      original: opened,
      originalEntry: entry,
      assemble,
      progress,
      signal: opts.signal,
      releaseOriginal: opts.keepOriginal !== true, // each bf16 shard goes once converted
    });
    if (opts.keepOriginal !== true) await entry.remove();
    const m = await fromEntry(conv, src.id, assemble, progress.network);
    progress.done();
    return m;
  }
  const m = finish(opened, { id: entry.record.id, sourceId: src.id }, assemble, progress.network, {
    names: sideFileNames(entry),
    read: async (name) => new Uint8Array(await (await entry.completeFile(name)).arrayBuffer()),
    bytesRead: opened.bytesRead,
    evict: (name, why) => entry.evictFile(name, why),
  });
  progress.done();
  return m;
}

async function loadLocal(id: string, files: Map<string, File>, opts: LoadOptions, assemble: AssembleOptions) {
  const progress = new ProgressTracker(opts.onProgress);
  progress.startPhase('validate', []);
  const access = localFiles(`the selected files (${id})`, files);
  const opened = await openCheckpoint(access);
  progress.done();
  return finish(opened, { id, sourceId: id }, assemble, 0, {
    names: [...files.keys()].filter((n) => !n.endsWith('.safetensors')),
    read: async (name) => new Uint8Array(await files.get(name)!.arrayBuffer()),
    bytesRead: () => access.bytesRead,
  });
}

/**
 * Loads and validates a model. Remote sources go through the OPFS cache: the second load of a model
 * makes no network request; an interrupted download resumes with Range requests. Errors are typed
 * KimiVLErrors (ConfigError, SafetensorsError, CheckpointError, DownloadError, QuotaError, CacheError,
 * AbortError).
 */
export async function loadModel(source: ModelSource, opts: LoadOptions = {}): Promise<LoadedModel> {
  const assemble: AssembleOptions = { quant: opts.quant ?? 'none', f16: opts.f16 ?? 'none' };
  if (opts.signal?.aborted) throw abortError(opts.signal);
  const src = await resolveSource(source, { hubUrl: opts.hubUrl });
  try {
    // Small files first (kilobytes): a bad config or preprocessor, or a GPU the caller finds too
    // small, stops the load before any shard byte moves.
    const mf = await metaFiles(src, assemble, opts.fetch);
    const meta = await readModelMeta(mf.files);
    await opts.beforeWeights?.(meta);
    if (src.kind === 'local') return await loadLocal(src.id, src.files, opts, assemble);
    if (!opfsAvailable())
      throw new KimiVLError(
        'CacheError',
        'Loading a remote model needs the Origin Private File System (a secure context).',
      );
    return await withModelLock(src.id, opts.signal, () => loadRemote(src, opts, assemble));
  } catch (e) {
    if (opts.signal?.aborted && !isKimiVLError(e, 'AbortError')) throw abortError(opts.signal);
    if (e instanceof KimiVLError) throw e;
    // Storage and platform failures (DOMException etc.) still leave as typed errors.
    throw new KimiVLError('CacheError', `Loading ${src.id} failed: ${(e as Error)?.message ?? e}`, {
      cause: e,
    });
  }
}

/** The cache id loadModel uses for a source (for deleteCachedModel), without any network. */
export async function cachedModelId(source: ModelSource, opts: { hubUrl?: string } = {}): Promise<string> {
  return (await resolveSource(source, opts)).id;
}
