// Engine.load's work, in the order a real model needs on a real machine:
//   1. the adapter (no WebGPU → WebGPUUnavailableError before anything is fetched);
//   2. the model's small files (config, preprocessor, index: kilobytes), judged against the adapter's
//      limits (or the smaller `limits` option) → GpuLimitError before any weight moves; then the device,
//      requesting the binding size the memory plan needs, with the limit guard installed;
//   3. download / convert into the cache as before (loadModel);
//   4. weights streamed: each one read (and converted) from the cache, uploaded and dropped at once, so
//      the host holds about one weight at a time instead of the whole model (9.2 GiB at q4).
import { KimiVLError } from '../errors.ts';
import { acquireDevice, requestAdapter } from '../gpu/device.ts';
import { type BufferLimits, effectiveLimits, installLimitGuard } from '../gpu/limit_guard.ts';
import { GpuRuntime } from '../gpu/runtime.ts';
import { createGpuKernels } from '../kernels/gpu_kernels.ts';
import { createRefKernels } from '../kernels/ref_kernels.ts';
import type { Kernels } from '../kernels/types.ts';
import { type LogLevel, setLogLevel } from '../log.ts';
import { KimiVLModel } from '../model/kimi_vl.ts';
import { USER_KV_CACHE_DTYPE } from '../model/kv_cache.ts';
import type { HostWeight, Tensor } from '../tensor/types.ts';
import { loadTokenizerFromUrl, Tokenizer } from '../text/tokenizer.ts';
import { type LoadedModel, type LoadProgress, loadModel, type ModelSource } from '../weights/load.ts';
import {
  assertFits,
  BASE_CONTEXT_BUDGET,
  defaultContextBudget,
  fitModel,
  planQuantFor,
} from '../weights/preflight_fit.ts';
import type { ModelMeta } from '../weights/preflight_meta.ts';
import type { LoadedEngineState, ModelInfo } from './engine_state.ts';

export interface EngineLoadOptions {
  /** Quantise the language model's linear weights on load. Default 'none' (the weights as stored). */
  quantization?: 'none' | 'q8' | 'q4';
  /** Thinking model (reasoning events)? Default: true when the model id contains "thinking". */
  thinking?: boolean;
  /**
   * KV cache positions (prompt + answer, all turns). Default: room for one maximum-size image of the
   * model's preprocessor plus a prompt (4096 for in_token_limit 4096, 16384 for Thinking-2506).
   */
  contextBudget?: number;
  /** 'gpu' (WebGPU, default) or 'ref' (the CPU reference: tiny models and tests only). */
  backend?: 'gpu' | 'ref';
  powerPreference?: GPUPowerPreference;
  /** Hugging Face mirror for repo ids. */
  hubUrl?: string;
  /** Folder URL of tiktoken.model + tokenizer_config.json when the model folder has none. */
  tokenizerUrl?: string;
  /**
   * Treat these (smaller) values as the device's limits: the preflight judges against them and no buffer
   * above them is ever created or bound (GpuLimitError), so a small GPU can be emulated on a large one.
   */
  limits?: Partial<BufferLimits>;
  /** Keep the bf16 original cached beside a q8/q4 converted copy. Default false (converted form only). */
  keepOriginal?: boolean;
  /** The engine's console output: 'silent', 'error', 'warn' (default), 'info' or 'debug' (src/log.ts). */
  logLevel?: LogLevel;
}

/** The context budget when the model has no preprocessor (text only). */
export const DEFAULT_CONTEXT_BUDGET = BASE_CONTEXT_BUDGET;

const TOKENIZER_FILES = ['tiktoken.model', 'tokenizer_config.json', 'chat_template.jinja'];

/** The model's tokenizer; files that do not build one are evicted from the cache before the error. */
export async function readTokenizer(
  m: Pick<LoadedModel, 'readFile' | 'rejectFile'>,
  fallbackUrl: string | undefined,
): Promise<Tokenizer | null> {
  const [model, config, template] = await Promise.all(TOKENIZER_FILES.map((n) => m.readFile(n)));
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  if (!model || !config) return fallbackUrl ? loadTokenizerFromUrl(fallbackUrl) : null;
  try {
    return Tokenizer.fromFiles(text(model), text(config), template ? text(template) : null);
  } catch (e) {
    const why = `the tokenizer did not build: ${(e as Error)?.message ?? e}`;
    for (const name of TOKENIZER_FILES) await m.rejectFile(name, why);
    throw e;
  }
}

/**
 * Uploads weights as they come and drops each host copy at once: the host never holds more than the
 * weight being uploaded (plus what its assembly reads). `release` frees what was uploaded on failure.
 */
export async function uploadStreamed(
  weights: AsyncIterable<[string, HostWeight]>,
  upload: (w: HostWeight) => Tensor,
  release: (t: Tensor) => void,
  signal?: AbortSignal,
): Promise<Map<string, Tensor>> {
  const out = new Map<string, Tensor>();
  try {
    for await (const [name, w] of weights) {
      if (signal?.aborted) throw new KimiVLError('AbortError', 'loading was cancelled');
      out.set(name, upload(w));
    }
  } catch (e) {
    for (const t of out.values()) release(t);
    throw e;
  }
  return out;
}

/**
 * Builds the model from already-uploaded tensors: KimiVLModel.load walks its weight table and calls
 * uploadWeight per slot; here each slot gets a shape-only stand-in whose "upload" is the tensor that
 * was streamed up earlier, so the model's own checks (missing weight, wrong shape) still run.
 */
export function modelFromUploaded(k: Kernels, meta: ModelMeta, uploaded: Map<string, Tensor>): KimiVLModel {
  const standIns = new Map<string, HostWeight>();
  const tensorOf = new Map<HostWeight, Tensor>();
  for (const [name, t] of uploaded) {
    const w: HostWeight = {
      dtype: t.dtype as HostWeight['dtype'],
      shape: [...t.shape],
      bytes: new Uint8Array(0),
    };
    standIns.set(name, w);
    tensorOf.set(w, t);
  }
  const view = Object.create(k) as Kernels;
  view.uploadWeight = (w: HostWeight) => {
    const t = tensorOf.get(w);
    if (!t)
      throw new Error('kimi-vl-web internal error: a weight was not streamed before the model was built');
    return t;
  };
  return KimiVLModel.load(view, meta.config, standIns);
}

const stopNames = ['<|im_end|>', '[EOS]'];

export async function loadEngineState(
  source: ModelSource,
  opts: EngineLoadOptions,
  signal: AbortSignal,
  onProgress?: (p: LoadProgress) => unknown,
): Promise<LoadedEngineState> {
  setLogLevel(opts.logLevel); // the worker's realm has its own level
  const t0 = performance.now();
  const progress = onProgress
    ? (p: LoadProgress) => void Promise.resolve(onProgress(p)).catch(() => {})
    : undefined;
  const backend = opts.backend ?? 'gpu';
  const quantization = opts.quantization ?? 'none';
  // 1. No adapter, no download.
  const adapter = backend === 'gpu' ? await requestAdapter(opts.powerPreference) : null;
  let rt: GpuRuntime | null = null;
  let meta: ModelMeta | null = null;
  let contextBudget = opts.contextBudget ?? DEFAULT_CONTEXT_BUDGET;
  try {
    const m = await loadModel(source, {
      quant: quantization,
      onProgress: progress,
      signal,
      hubUrl: opts.hubUrl,
      keepOriginal: opts.keepOriginal,
      // 2. Judged from the small files; the device comes before any weight.
      beforeWeights: async (mm) => {
        meta = mm;
        contextBudget = Math.min(
          opts.contextBudget ?? defaultContextBudget(mm.config, mm.preprocessor),
          mm.config.text.maxPositionEmbeddings,
        );
        if (!adapter) return;
        const limits = effectiveLimits(adapter.limits, opts.limits);
        const fit = fitModel({
          config: mm.config,
          preprocessor: mm.preprocessor,
          quant: planQuantFor(quantization, mm.stored),
          context: contextBudget,
          limits,
        });
        assertFits(fit, mm.location);
        const acquired = await acquireDevice({
          powerPreference: opts.powerPreference,
          minStorageBinding: fit.needs.maxStorageBufferBindingSize,
        });
        installLimitGuard(acquired.device, effectiveLimits(acquired.device.limits, opts.limits));
        rt = GpuRuntime.fromDevice(acquired);
      },
    });
    if (!meta) throw new Error('kimi-vl-web internal error: loadModel skipped beforeWeights');
    const tokenizer = await readTokenizer(m, opts.tokenizerUrl);
    if (signal.aborted) throw new KimiVLError('AbortError', 'loading was cancelled');
    const gpu = rt as GpuRuntime | null;
    const k = gpu ? createGpuKernels(gpu) : createRefKernels();
    // 4. One weight at a time: read from the cache, converted, uploaded, dropped.
    const uploaded = await uploadStreamed(
      m.weights(),
      (w) => k.uploadWeight(w),
      (t) => k.release(t),
      signal,
    );
    const model = modelFromUploaded(k, meta, uploaded);
    const cache = model.newCache(k, contextBudget, USER_KV_CACHE_DTYPE); // f16 (kv_cache.ts says why)
    const t = m.config.text;
    const stopIds = new Set([t.eosTokenId]);
    if (tokenizer)
      for (const name of stopNames) {
        try {
          stopIds.add(tokenizer.specialTokenId(name));
        } catch {
          // a tokenizer without this special simply cannot emit it
        }
      }
    const info: ModelInfo = {
      id: m.id,
      thinking: opts.thinking ?? /thinking/i.test(m.id),
      backend,
      contextBudget: cache.capacity,
      hasTokenizer: tokenizer !== null,
      acceptsImages: m.preprocessor !== null,
      layers: t.numLayers,
      hiddenSize: t.hiddenSize,
      experts: t.nRoutedExperts,
      vocabSize: t.vocabSize,
      loadMs: performance.now() - t0,
      networkBytes: m.networkBytes,
    };
    return { info, k, rt: gpu, model, cache, tokenizer, preprocessor: m.preprocessor, stopIds: [...stopIds] };
  } catch (e) {
    (rt as GpuRuntime | null)?.destroy();
    throw e;
  }
}
