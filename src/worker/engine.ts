// The engine behind the worker boundary. The page talks to it through comlink (src/api/); tests and the
// CLI harness construct it directly in-thread. Every public method takes and returns structured-clonable
// values (or comlink proxies for streaming callbacks). Requests run one at a time (RequestQueue).

import { isKimiVLError, KimiVLError } from '../errors.ts';
import type { ChatEvent } from '../generate/events.ts';
import { type AdapterDescription, describeAdapter, requestAdapter } from '../gpu/device.ts';
import type { LoadProgress, ModelSource } from '../weights/load.ts';
import type { WireMessage } from './chat_input.ts';
import { asDeviceLoss, type LossSwitch, lossSwitch, simulatedLoss } from './device_loss.ts';
import { type EngineLoadOptions as BaseLoadOptions, loadEngineState } from './engine_load.ts';
import type { LoadedEngineState, ModelInfo } from './engine_state.ts';
import { type EngineEvent, rebuildableHistory, rebuildCache } from './recover.ts';
import { RequestQueue } from './request_queue.ts';
import { type EngineChatOptions, type RequestInput, runRequest } from './run_request.ts';

export { DEFAULT_CONTEXT_BUDGET } from './engine_load.ts';
export type { EngineEvent } from './recover.ts';

export interface EngineLoadOptions extends BaseLoadOptions {
  /**
   * After a GPU device loss, get a new device, upload the weights again (from the local cache or the
   * source), rebuild the conversation's KV cache and go on (a `recovered` event tells the page). Default
   * true; false: the request fails with DeviceLostError and the model must be loaded again.
   */
  autoRecover?: boolean;
}

/** How long unload() waits for the running request to stop before it frees the device under it. */
const UNLOAD_GRACE_MS = 5000;

export type { ModelInfo } from './engine_state.ts';
export type { EngineChatOptions } from './run_request.ts';

/** Receives a request's events in order (awaited); a comlink proxy across the worker boundary. */
type OnEvent = (e: ChatEvent) => unknown;

export class Engine {
  private loaded: LoadedEngineState | null = null;
  private readonly queue = new RequestQueue();
  private readonly loadAborts = new Map<number, AbortController>();
  /** What was loaded, to load it again after a device loss. */
  private lastLoad: { source: ModelSource; opts: EngineLoadOptions } | null = null;
  private events: ((e: EngineEvent) => unknown) | null = null;
  private unloading: Promise<void> | null = null;
  private recoveryAbort: AbortController | null = null;
  /** The test hook's handle on each loaded model's kernels. */
  private readonly lossSwitches = new WeakMap<LoadedEngineState, LossSwitch>();

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
    const { autoRecover, ...loadOpts } = opts;
    return this.queue
      .run(requestId, () => this.loadNow(source, loadOpts, abort.signal, onProgress))
      .then((info) => this.watchDevice(source, { ...loadOpts, autoRecover }, info))
      .finally(() => this.loadAborts.delete(requestId));
  }

  private async loadNow(
    source: ModelSource,
    opts: EngineLoadOptions,
    signal: AbortSignal,
    onProgress?: (p: LoadProgress) => unknown,
  ): Promise<ModelInfo> {
    this.unloadNow();
    this.loaded = await loadEngineState(source, opts, signal, onProgress);
    return this.loaded.info;
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
      this.guard((s) => runRequest(s, input, opts, isCancelled, onEvent, this.recoverer('request'))),
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

  /**
   * Frees the model's GPU memory. The running request stops within one token (or one prefill slice, one
   * image) and rejects with AbortError, as do the queued ones (at once); a load in progress is cancelled.
   * Calling it again while it runs returns the same promise.
   */
  unload(): Promise<void> {
    if (this.unloading) return this.unloading;
    const unloaded = () => new KimiVLError('AbortError', 'the model was unloaded while this request ran');
    this.queue.abortAll(unloaded);
    for (const abort of this.loadAborts.values()) abort.abort();
    this.recoveryAbort?.abort();
    // A request that does not stop in time (a GPU hang) loses its device: that ends it too.
    const grace = setTimeout(() => this.unloadNow(), UNLOAD_GRACE_MS);
    this.unloading = this.queue
      .run(-1, async () => this.unloadNow())
      .finally(() => {
        clearTimeout(grace);
        this.unloading = null;
      });
    return this.unloading;
  }

  /** Receives engine events (`recovered`); a comlink proxy across the worker boundary. */
  watch(onEvent: ((e: EngineEvent) => unknown) | null): void {
    this.events = onEvent;
  }

  /**
   * Test hook: loses the GPU device as a driver reset would, now or after `afterKernelCalls` more kernel
   * calls (to hit the middle of a prefill). The reference backend simulates the loss.
   */
  async loseDeviceForTest(opts: { afterKernelCalls?: number } = {}): Promise<void> {
    const s = this.loaded;
    if (!s) return;
    this.lossSwitches.get(s)?.arm(opts.afterKernelCalls ?? 0, () => {
      if (s.rt) {
        s.rt.device.destroy();
        return null;
      }
      const err = simulatedLoss();
      queueMicrotask(() => this.onDeviceLost(s, err));
      return err;
    });
    if (s.rt && !opts.afterKernelCalls) await s.rt.device.lost;
  }

  /** After a load: remembers what to reload, and recovers from a loss that happens while idle. */
  private watchDevice(source: ModelSource, opts: EngineLoadOptions, info: ModelInfo): ModelInfo {
    this.lastLoad = { source, opts };
    if (this.loaded) this.watchState(this.loaded);
    return info;
  }

  /** Idle-loss recovery and the loss test hook for a freshly loaded state. */
  private watchState(s: LoadedEngineState): void {
    const loss = lossSwitch(s.k);
    s.k = loss.kernels;
    this.lossSwitches.set(s, loss);
    s.rt?.onLost((err) => this.onDeviceLost(s, err));
  }

  /** A loss seen outside a request: recover in the queue's order (a running request recovers itself). */
  private onDeviceLost(s: LoadedEngineState, err: KimiVLError): void {
    if (this.loaded !== s || !this.recoverer('idle')) return;
    const recover = this.recoverer('idle')!;
    this.queue
      .run(-2, async () => {
        if (this.loaded === s) await recover(err);
      })
      .catch(() => {}); // a failed idle recovery leaves the loss for the next request to report
  }

  /** The recovery function for a request or idle loss, or null without autoRecover. */
  private recoverer(during: 'request' | 'idle') {
    if (!this.lastLoad || this.lastLoad.opts.autoRecover === false) return null;
    const { source, opts } = this.lastLoad;
    return async (lost: KimiVLError): Promise<LoadedEngineState> => {
      const old = this.loaded;
      if (!old) throw lost;
      const t0 = performance.now();
      const history = rebuildableHistory(old);
      const abort = new AbortController();
      this.recoveryAbort = abort;
      try {
        const { autoRecover: _, ...loadOpts } = opts;
        await this.loadNow(source, loadOpts, abort.signal);
        const fresh = this.loaded!;
        this.watchState(fresh);
        await rebuildCache(fresh, history);
        const event: EngineEvent = {
          type: 'recovered',
          during,
          reason: lost.message,
          rebuiltTokens: history.length,
          ms: performance.now() - t0,
        };
        void Promise.resolve(this.events?.(event)).catch(() => {});
        return fresh;
      } catch (e) {
        if (abort.signal.aborted) throw new KimiVLError('AbortError', 'the model was unloaded', { cause: e });
        throw new KimiVLError(
          'DeviceLostError',
          `${lost.message} Recovering failed: ${(e as Error).message}`,
          {
            cause: e,
          },
        );
      } finally {
        this.recoveryAbort = null;
      }
    };
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
      const current = this.loaded ?? s; // a recovery may have replaced s
      const lost = await asDeviceLoss(current, e);
      if (lost) {
        if (this.loaded === current) this.loaded = null;
        try {
          current.rt?.destroy();
        } catch {
          // already gone
        }
        throw lost;
      }
      if (!isKimiVLError(e, 'ContextOverflowError')) current.cache.reset(); // a half-written turn must not be reused
      throw e;
    }
  }
}

export type EngineApi = Engine;
