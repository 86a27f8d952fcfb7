// The main-thread API. `KimiVL` owns one engine: in a Web Worker (worker_start.ts; a worker that cannot
// start is an error unless requireWorker: false) or in-thread on request, the same Engine on both sides.
//
//   const engine = await KimiVL.load('moonshotai/Kimi-VL-A3B-Instruct', { quantization: 'q4', onProgress });
//   for await (const e of engine.chat([{ role: 'user', content: 'Hi' }])) if (e.type === 'answer') show(e.text);
import * as Comlink from 'comlink';
import { isKimiVLError, KimiVLError, type KimiVLErrorName } from '../errors.ts';
import type { ChatEvent, DoneEvent } from '../generate/events.ts';
import type { AdapterDescription } from '../gpu/device.ts';
import { setLogLevel } from '../log.ts';
import type { ModelSource } from '../weights/load.ts';
import { Engine, type EngineChatOptions, type EngineEvent, type ModelInfo } from '../worker/engine.ts';
import { EngineLink, type Remote } from './engine_link.ts';
import { EventStream } from './event_stream.ts';
import { toWireMessages } from './images.ts';
import {
  type ChatCompletion,
  type ChatCompletionChunk,
  type ChatCompletionRequest,
  createCompletion,
} from './openai.ts';
import { openaiFetch } from './openai_fetch.ts';
import {
  type CheckOptions,
  type CheckReport,
  checkModelSource,
  type PreloadOptions,
  type PreloadResult,
  preloadModelSource,
} from './preflight.ts';
import { modelName, progressHandlers } from './progress.ts';
import type { ChatMessage, ChatOptions, LoadOptions, ModelInput } from './types.ts';
import { checkChatArgs, checkIdsArgs, checkLoadArgs, checkPreloadArgs } from './validate.ts';
import { startEngine } from './worker_start.ts';

/** The events of one request; iterate once. `result` resolves with the final `done` event. */
export interface ChatStream extends AsyncIterable<ChatEvent> {
  readonly result: Promise<DoneEvent>;
  /** Same as aborting the request's signal. */
  cancel(): void;
}

export interface ChatFunction {
  (messages: ChatMessage[], options?: ChatOptions): ChatStream;
  completions: {
    create(req: ChatCompletionRequest & { stream: true }): Promise<AsyncIterable<ChatCompletionChunk>>;
    create(req: ChatCompletionRequest & { stream?: false }): Promise<ChatCompletion>;
  };
}

/** Errors re-created by comlink are plain Errors with our `name`; give them back their class. */
function retype(e: unknown): unknown {
  if (e instanceof KimiVLError || !isKimiVLError(e)) return e;
  const err = e as Error;
  return new KimiVLError(err.name as KimiVLErrorName, err.message, { cause: e });
}

function toSource(model: ModelInput): ModelSource {
  if (model instanceof URL) return { url: model.href };
  if (typeof model === 'string') {
    // Folder URLs are resolved against the page: the worker (a blob: URL in the script build) has no base.
    const s = model.trim();
    if (/^(https?:)?\/\/|^\.{0,2}\//i.test(s) && typeof location !== 'undefined')
      return new URL(s, location.href).href;
    return s;
  }
  if ('url' in model && typeof model.url === 'string')
    return { url: new URL(model.url, globalThis.location?.href).href };
  if ('repo' in model || 'directory' in model || 'files' in model) return model as ModelSource;
  return { files: model as ArrayLike<File> };
}

let nextRequestId = 1;

/** The `recovered` event: the engine got over a GPU device loss by itself (load option autoRecover). */
export type RecoveredEvent = CustomEvent<EngineEvent>;

/**
 * One loaded model. Every call settles: after unload() (or during it) calls reject with EngineStateError
 * at once, requests cut short by unload() with AbortError. Events: `recovered` (a RecoveredEvent) after
 * the engine recovered from a lost GPU device.
 */
export class KimiVL extends EventTarget {
  /** `engine.chat(messages, options)` streams events; `engine.chat.completions.create(...)` is OpenAI-style. */
  readonly chat: ChatFunction;
  /** Settles every call, even once the worker is gone (engine_link.ts). */
  private readonly link: EngineLink;

  private constructor(
    private readonly engine: Remote,
    private readonly worker: Worker | null,
    /** Where the engine runs. */
    readonly mode: 'worker' | 'main-thread',
    /** What was loaded (id, thinking, context budget, backend...). */
    readonly info: ModelInfo,
  ) {
    super();
    this.link = new EngineLink(engine, worker);
    const chat = ((messages: ChatMessage[], options: ChatOptions = {}) =>
      this.request(
        () => toWireMessages(checkChatArgs(messages, options)),
        (id, wire, onEvent, opts) =>
          this.engine.chat(id, Comlink.transfer(wire.messages, wire.transfer), opts, onEvent),
        options,
      )) as ChatFunction;
    chat.completions = {
      create: ((req: ChatCompletionRequest) =>
        this.createCompletion(req)) as ChatFunction['completions']['create'],
    };
    this.chat = chat;
  }

  /**
   * Starts an engine and loads a model: a Hugging Face repo id, a folder URL, or local files. Downloads are
   * cached (OPFS): the second load makes no network request. Rejects with typed errors
   * (WebGPUUnavailableError, DownloadError, QuotaError, ConfigError, AbortError, ...).
   */
  static async load(model: ModelInput, opts: LoadOptions = {}): Promise<KimiVL> {
    checkLoadArgs(model, opts);
    const {
      onProgress: given,
      progress_callback,
      signal,
      inThread,
      worker: givenWorker,
      requireWorker,
      ...engineOpts
    } = opts;
    setLogLevel(opts.logLevel); // the page's realm; the engine sets the worker's from engineOpts
    const { onProgress, ready } = progressHandlers(modelName(model), given, progress_callback);
    // No silent fallback: a worker that cannot start is a WorkerStartError unless requireWorker: false.
    const started = await startEngine({ inThread, worker: givenWorker, requireWorker });
    const worker = started?.worker ?? null;
    const engine: Remote = started?.remote ?? new Engine();
    const mode = started ? 'worker' : 'main-thread';
    const id = nextRequestId++;
    const progress = onProgress && (worker ? Comlink.proxy(onProgress) : onProgress);
    const onAbort = () => void engine.cancel(id);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      if (signal?.aborted) throw new KimiVLError('AbortError', 'loading was cancelled');
      const info = await engine.load(id, toSource(model), engineOpts, progress);
      const kimi = new KimiVL(engine, worker, mode, info);
      await kimi.link.watch((e) => kimi.dispatchEvent(new CustomEvent(e.type, { detail: e })));
      ready(); // transformers.js-style `ready` (progress_callback)
      return kimi;
    } catch (e) {
      worker?.terminate();
      throw retype(e);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Preflight, without loading: fits (the adapter's limits), reasons, downloadBytes, storageBytes,
   * gpuBytes, largestBinding, cached, adapter — from config.json, the index and the adapter (kilobytes).
   */
  static async check(model: ModelInput, opts: CheckOptions = {}): Promise<CheckReport> {
    checkPreloadArgs(model, opts, 'KimiVL.check');
    return checkModelSource(toSource(model), opts);
  }

  /** Downloads (and converts, for q8/q4) into the browser cache without building the model. */
  static async preload(model: ModelInput, opts: PreloadOptions = {}): Promise<PreloadResult> {
    checkPreloadArgs(model, opts, 'KimiVL.preload');
    return preloadModelSource(toSource(model), opts);
  }

  /** A `fetch` for the `openai` SDK (or any OpenAI client) that answers from `engine`, with no server. */
  static openaiFetch(engine: KimiVL): typeof fetch {
    return openaiFetch(engine);
  }

  /** Low-level: generates from prompt ids (no template, no images). Tests and benchmarks. */
  generateFromIds(ids: number[], options: ChatOptions = {}): ChatStream {
    return this.request(
      async () => checkIdsArgs(ids, options),
      (id, prepared, onEvent, opts) => this.engine.generateFromIds(id, prepared, opts, onEvent),
      options,
    );
  }

  /** `prepare` runs on the page (image conversion); `send` hands the request to the engine's queue. */
  private request<P>(
    prepare: () => Promise<P>,
    send: (
      id: number,
      prepared: P,
      onEvent: (e: ChatEvent) => void,
      opts: EngineChatOptions,
    ) => Promise<DoneEvent>,
    options: ChatOptions,
  ): ChatStream {
    const { signal, ...opts } = options ?? {}; // a non-object is refused by `prepare` (validate.ts)
    const id = nextRequestId++;
    // A cancel before the request reached the engine is sent again once it has (below).
    let cancelled = false;
    const cancel = () => {
      cancelled = true;
      this.link.cancel(id);
    };
    const events = new EventStream<ChatEvent>(cancel);
    const push = (e: ChatEvent) => events.push(e);
    const onEvent = this.worker ? Comlink.proxy(push) : push;
    // Made after unload: EngineStateError; cut short by unload or terminate: AbortError.
    let sendLater: ReturnType<EngineLink['reserve']> | null = null;
    let refused: unknown = null;
    try {
      sendLater = this.link.reserve();
    } catch (e) {
      refused = e;
    }
    const result = (async () => {
      if (!sendLater) throw refused;
      const prepared = await prepare();
      const running = sendLater(() => send(id, prepared, onEvent, opts));
      // After start: the engine has queued the request, so the cancel cannot overtake it.
      if (signal?.aborted || cancelled) cancel();
      else signal?.addEventListener('abort', cancel, { once: true });
      try {
        return await running;
      } finally {
        signal?.removeEventListener('abort', cancel);
      }
    })().then(
      (done) => {
        events.end();
        return done;
      },
      (e) => {
        const err = retype(e);
        events.fail(err);
        throw err;
      },
    );
    result.catch(() => {}); // reported through the iterator; `result` users still see it
    return Object.assign(events, { result, cancel });
  }

  private createCompletion(
    req: ChatCompletionRequest,
  ): Promise<AsyncIterable<ChatCompletionChunk> | ChatCompletion> {
    if (!this.link.isOpen) return this.link.call(async () => null as never); // the EngineStateError
    return createCompletion({ chat: (m, o) => this.chat(m, o), modelId: this.info.id }, req);
  }

  /** Forgets the conversation held in the KV cache. */
  async resetConversation(): Promise<void> {
    await this.call((e) => e.resetConversation());
  }

  /** The WebGPU adapter the engine sees. */
  adapterInfo(): Promise<AdapterDescription> {
    return this.call((e) => e.adapterInfo());
  }

  /**
   * Frees the model's GPU memory and stops the worker. The running request stops within one token (or
   * one prefill slice) and rejects with AbortError, as do the queued ones; later calls reject with
   * EngineStateError. Calling it again resolves. Load again with KimiVL.load.
   */
  unload(): Promise<void> {
    return this.link.unload();
  }

  /**
   * Test hook: loses the GPU device as a driver reset would, now or after `afterKernelCalls` more kernel
   * calls (the middle of a prefill). With autoRecover the engine recovers; without, DeviceLostError.
   */
  loseDeviceForTest(opts: { afterKernelCalls?: number } = {}): Promise<void> {
    return this.call((e) => e.loseDeviceForTest(opts));
  }

  /** One engine call through the link, errors with their class back. */
  private call<T>(fn: (engine: Remote) => Promise<T> | T): Promise<T> {
    return this.link.call(fn).catch((e) => Promise.reject(retype(e)));
  }

  /** Stops the worker at once (no cleanup needed: its GPU memory goes with it). */
  terminate(): void {
    this.link.terminate();
  }
}
