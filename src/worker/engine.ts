// The engine behind the worker boundary. The page talks to it through comlink (src/api/); tests and the
// CLI harness construct it directly in-thread. Every public method takes and returns structured-clonable
// values (or comlink proxies for streaming callbacks). Requests run one at a time (RequestQueue).

import { isKimiVLError, KimiVLError } from '../errors.ts';
import type { ChatEvent } from '../generate/events.ts';
import { type AdapterDescription, describeAdapter, requestAdapter } from '../gpu/device.ts';
import { GpuRuntime } from '../gpu/runtime.ts';
import { createGpuKernels } from '../kernels/gpu_kernels.ts';
import { createRefKernels } from '../kernels/ref_kernels.ts';
import { KimiVLModel } from '../model/kimi_vl.ts';
import { loadTokenizerFromUrl, Tokenizer } from '../text/tokenizer.ts';
import { type LoadProgress, loadModel, type ModelSource } from '../weights/load.ts';
import type { WireMessage } from './chat_input.ts';
import type { LoadedEngineState, ModelInfo } from './engine_state.ts';
import { RequestQueue } from './request_queue.ts';
import { type EngineChatOptions, type RequestInput, runRequest } from './run_request.ts';

export type { ModelInfo } from './engine_state.ts';
export type { EngineChatOptions } from './run_request.ts';

export interface EngineLoadOptions {
  /** Quantise the language model's linear weights on load. Default 'none' (as stored). */
  quantization?: 'none' | 'q8' | 'q4';
  /** Thinking model (reasoning events)? Default: true when the model id contains "thinking". */
  thinking?: boolean;
  /** KV cache positions (prompt + answer, all turns). Default 4096. */
  contextBudget?: number;
  /** 'gpu' (WebGPU, default) or 'ref' (the CPU reference: tiny models and tests only). */
  backend?: 'gpu' | 'ref';
  powerPreference?: GPUPowerPreference;
  /** Hugging Face mirror for repo ids. */
  hubUrl?: string;
  /** Folder URL of tiktoken.model + tokenizer_config.json when the model folder has none. */
  tokenizerUrl?: string;
}

export const DEFAULT_CONTEXT_BUDGET = 4096;

/** Receives a request's events in order (awaited); a comlink proxy across the worker boundary. */
type OnEvent = (e: ChatEvent) => unknown;

async function readTokenizer(
  readFile: (name: string) => Promise<Uint8Array | null>,
  fallbackUrl: string | undefined,
): Promise<Tokenizer | null> {
  const [model, config] = await Promise.all([readFile('tiktoken.model'), readFile('tokenizer_config.json')]);
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  if (model && config) return Tokenizer.fromFiles(text(model), text(config));
  return fallbackUrl ? loadTokenizerFromUrl(fallbackUrl) : null;
}

export class Engine {
  private loaded: LoadedEngineState | null = null;
  private readonly queue = new RequestQueue();
  private readonly loadAborts = new Map<number, AbortController>();

  /** The adapter this engine would run on, as WebGPU describes it (no device is created). */
  async adapterInfo(): Promise<AdapterDescription> {
    return describeAdapter(await requestAdapter());
  }

  /** Answers once the engine's thread runs (the page uses it to tell a started worker from a blocked one). */
  ping(): string {
    return 'pong';
  }

  /** Loads a model, replacing any loaded one. Cancel with cancel(requestId). */
  load(
    requestId: number,
    source: ModelSource,
    opts: EngineLoadOptions = {},
    onProgress?: (p: LoadProgress) => unknown,
  ): Promise<ModelInfo> {
    const abort = new AbortController();
    this.loadAborts.set(requestId, abort);
    return this.queue
      .run(requestId, () => this.loadNow(source, opts, abort.signal, onProgress))
      .finally(() => this.loadAborts.delete(requestId));
  }

  private async loadNow(
    source: ModelSource,
    opts: EngineLoadOptions,
    signal: AbortSignal,
    onProgress?: (p: LoadProgress) => unknown,
  ): Promise<ModelInfo> {
    this.unloadNow();
    const t0 = performance.now();
    const progress = onProgress
      ? (p: LoadProgress) => void Promise.resolve(onProgress(p)).catch(() => {})
      : undefined;
    const m = await loadModel(source, {
      quant: opts.quantization ?? 'none',
      onProgress: progress,
      signal,
      hubUrl: opts.hubUrl,
    });
    const tokenizer = await readTokenizer(m.readFile, opts.tokenizerUrl);
    const host = await m.loadWeights();
    if (signal.aborted) throw new KimiVLError('AbortError', 'loading was cancelled');
    const backend = opts.backend ?? 'gpu';
    const rt = backend === 'gpu' ? await GpuRuntime.create({ powerPreference: opts.powerPreference }) : null;
    try {
      const k = rt ? createGpuKernels(rt) : createRefKernels();
      const model = KimiVLModel.load(k, m.config, host);
      host.clear();
      const contextBudget = Math.min(
        opts.contextBudget ?? DEFAULT_CONTEXT_BUDGET,
        m.config.text.maxPositionEmbeddings,
      );
      const cache = model.newCache(k, contextBudget);
      const t = m.config.text;
      const stopIds = new Set([t.eosTokenId]);
      if (tokenizer) {
        for (const name of ['<|im_end|>', '[EOS]']) {
          try {
            stopIds.add(tokenizer.specialTokenId(name));
          } catch {
            // a tokenizer without this special simply cannot emit it
          }
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
      this.loaded = {
        info,
        k,
        rt,
        model,
        cache,
        tokenizer,
        preprocessor: m.preprocessor,
        stopIds: [...stopIds],
      };
      return info;
    } catch (e) {
      rt?.destroy();
      throw e;
    }
  }

  /** The loaded model, or null. */
  modelInfo(): ModelInfo | null {
    return this.loaded?.info ?? null;
  }

  /**
   * Answers a chat. Events go to `onEvent` (awaited, so they arrive in order); the promise resolves with
   * the final `done` event. Earlier turns of the same conversation are reused from the KV cache.
   */
  chat(requestId: number, messages: WireMessage[], opts: EngineChatOptions, onEvent: OnEvent) {
    return this.request(requestId, { kind: 'chat', messages }, opts, onEvent);
  }

  /** Low-level: generates from prompt ids (placeholders expanded, no images). Tests and benchmarks. */
  generateFromIds(requestId: number, ids: number[], opts: EngineChatOptions, onEvent: OnEvent) {
    return this.request(requestId, { kind: 'ids', ids }, opts, onEvent);
  }

  /** chat and generateFromIds: one request at a time, on the loaded model. */
  private request(requestId: number, input: RequestInput, opts: EngineChatOptions, onEvent: OnEvent) {
    return this.queue.run(requestId, (isCancelled) =>
      this.guard((s) => runRequest(s, input, opts, isCancelled, onEvent)),
    );
  }

  /** Stops a running or queued request (chat, generateFromIds or load). */
  cancel(requestId: number): void {
    this.queue.cancel(requestId);
    this.loadAborts.get(requestId)?.abort();
  }

  /** Forgets the conversation held in the KV cache (the next chat prefills everything). */
  resetConversation(): void {
    this.loaded?.cache.reset();
  }

  /** Frees the model's GPU memory (waits for running requests). */
  unload(): Promise<void> {
    return this.queue.run(-1, async () => this.unloadNow());
  }

  /** Test hook: destroys the GPU device as a driver reset would. */
  async loseDeviceForTest(): Promise<void> {
    const device = this.loaded?.rt?.device;
    if (!device) return;
    device.destroy();
    await device.lost;
  }

  private unloadNow(): void {
    const s = this.loaded;
    this.loaded = null;
    if (!s) return;
    if (s.rt) {
      s.rt.destroy(); // frees every buffer at once
      return;
    }
    s.cache.release(s.k);
    s.model.release(s.k);
  }

  /** Runs `fn` on the loaded model; a lost device drops the model so a fresh load starts clean. */
  private async guard<T>(fn: (s: LoadedEngineState) => Promise<T>): Promise<T> {
    const s = this.loaded;
    if (!s) throw new KimiVLError('EngineStateError', 'no model is loaded; call load() first');
    try {
      return await fn(s);
    } catch (e) {
      if (isKimiVLError(e, 'DeviceLostError')) {
        this.loaded = null;
        try {
          s.rt?.destroy();
        } catch {
          // already gone
        }
      } else if (!isKimiVLError(e, 'ContextOverflowError')) {
        s.cache.reset(); // a half-written turn must not be reused
      }
      throw e;
    }
  }
}

export type EngineApi = Engine;
