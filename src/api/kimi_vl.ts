// The main-thread API. `KimiVL` owns one engine: in a Web Worker when possible, in-thread otherwise
// (e.g. a CSP that forbids blob: workers), with the same Engine class on both sides.
import * as Comlink from 'comlink';
import type { AdapterDescription } from '../gpu/device.ts';
import { Engine, type EngineApi } from '../worker/engine.ts';
import { startEngineWorker } from './worker_factory.ts';

export interface KimiVLOptions {
  /** Run the engine on the page's thread instead of a worker (tests, restricted pages). */
  inThread?: boolean;
}

type Remote = Comlink.Remote<EngineApi> | EngineApi;

export class KimiVL {
  private constructor(
    private readonly engine: Remote,
    private readonly worker: Worker | null,
    /** Where the engine runs: 'worker' or 'main-thread'. */
    readonly mode: 'worker' | 'main-thread',
  ) {}

  /** Starts an engine (no model loaded yet). */
  static async create(opts: KimiVLOptions = {}): Promise<KimiVL> {
    if (!opts.inThread && typeof Worker !== 'undefined') {
      try {
        const worker = startEngineWorker();
        const remote = Comlink.wrap<EngineApi>(worker);
        return new KimiVL(remote, worker, 'worker');
      } catch {
        // A CSP without `worker-src blob:` (script build) lands here: fall back to the page's thread.
      }
    }
    return new KimiVL(new Engine(), null, 'main-thread');
  }

  /** The WebGPU adapter the engine sees. */
  adapterInfo(): Promise<AdapterDescription> {
    return this.engine.adapterInfo();
  }

  /** Stops the worker and frees everything it held. */
  terminate(): void {
    this.worker?.terminate();
  }
}
