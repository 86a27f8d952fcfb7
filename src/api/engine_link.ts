// The page's handle on its engine, so that every public call settles. A terminated worker never answers
// a comlink message (the call's promise would wait forever), so the link remembers when the engine is
// gone (unloaded, terminated, crashed) and from then on refuses calls at once with EngineStateError;
// calls still waiting when it goes reject with AbortError. unload() is idempotent and bounded: a worker
// that does not answer in time is terminated anyway (its GPU memory goes with it).
import * as Comlink from 'comlink';
import { KimiVLError } from '../errors.ts';
import type { EngineApi, EngineEvent } from '../worker/engine.ts';

export type Remote = Comlink.Remote<EngineApi> | EngineApi;

/** How long unload() waits for the engine before it stops the worker regardless. */
const UNLOAD_TIMEOUT_MS = 10_000;

type State = 'open' | 'unloading' | 'closed';

export class EngineLink {
  private state: State = 'open';
  private closedBecause = '';
  private unloading: Promise<void> | null = null;
  /** Rejects the calls in flight when the engine goes away. */
  private readonly inFlight = new Set<(e: Error) => void>();

  constructor(
    readonly engine: Remote,
    readonly worker: Worker | null,
  ) {
    worker?.addEventListener('error', (ev) => {
      const why = (ev as ErrorEvent).message || 'it threw or ran out of memory';
      this.close(`the engine worker stopped (${why})`, 'EngineStateError');
    });
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  /** Throws EngineStateError unless the engine takes calls. */
  assertOpen(): void {
    if (this.state === 'unloading')
      throw new KimiVLError(
        'EngineStateError',
        'the engine is being unloaded; load a model again with KimiVL.load()',
      );
    if (this.state === 'closed')
      throw new KimiVLError(
        'EngineStateError',
        `the engine is gone (${this.closedBecause}); load a model again with KimiVL.load()`,
      );
  }

  /** Calls the engine; settles even if the engine goes away meanwhile. */
  call<T>(fn: (engine: Remote) => Promise<T> | T): Promise<T> {
    try {
      this.assertOpen();
    } catch (e) {
      return Promise.reject(e);
    }
    return this.track(() => fn(this.engine));
  }

  /**
   * For a request made now but sent later (after page-side preparation): throws EngineStateError now if
   * the engine takes no calls; the returned sender rejects with AbortError if it went away meanwhile.
   */
  reserve(): <T>(fn: (engine: Remote) => Promise<T> | T) => Promise<T> {
    this.assertOpen();
    return (fn) =>
      this.state === 'open'
        ? this.track(() => fn(this.engine))
        : Promise.reject(
            new KimiVLError(
              'AbortError',
              `the engine is gone (${this.closedBecause || 'unloading'}) before this call started`,
            ),
          );
  }

  /** Like call, but also while unloading (unload itself, cancel): no EngineStateError before closing. */
  private track<T>(fn: () => Promise<T> | T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const abandon = (e: Error) => reject(e);
      this.inFlight.add(abandon);
      Promise.resolve()
        .then(fn)
        .then(resolve, reject)
        .finally(() => this.inFlight.delete(abandon));
    });
  }

  /** Cancels a request; a no-op once the engine is gone. */
  cancel(id: number): void {
    if (this.state === 'closed') return;
    void this.track(() => this.engine.cancel(id)).catch(() => {});
  }

  /** Sends engine events (`recovered`) to `onEvent`. */
  watch(onEvent: (e: EngineEvent) => void): Promise<void> {
    const sink = this.worker ? Comlink.proxy(onEvent) : onEvent;
    return this.call((e) => e.watch(sink));
  }

  /**
   * Unloads the model and stops the worker: the running and queued requests reject with AbortError, later
   * calls with EngineStateError. Resolves within UNLOAD_TIMEOUT_MS; again and again if called again.
   */
  unload(): Promise<void> {
    if (this.state === 'closed') return Promise.resolve();
    if (this.unloading) return this.unloading;
    this.state = 'unloading';
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((r) => {
      timer = setTimeout(r, UNLOAD_TIMEOUT_MS);
    });
    this.unloading = Promise.race([this.track(() => this.engine.unload()).catch(() => {}), timeout]).then(
      () => {
        clearTimeout(timer);
        this.close('it was unloaded', 'AbortError');
      },
    );
    return this.unloading;
  }

  /** Stops the engine at once: calls in flight reject with AbortError, later ones with EngineStateError. */
  terminate(): void {
    if (this.state === 'closed') return;
    if (!this.worker) void Promise.resolve(this.engine.unload()).catch(() => {});
    this.close('it was terminated', 'AbortError');
  }

  private close(because: string, inFlightError: 'AbortError' | 'EngineStateError'): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.closedBecause = because;
    this.worker?.terminate();
    const err = new KimiVLError(inFlightError, `the engine is gone (${because}) before this call finished`);
    for (const abandon of this.inFlight) abandon(err);
    this.inFlight.clear();
  }
}
