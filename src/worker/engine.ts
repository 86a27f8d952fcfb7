// The engine behind the worker boundary. The page talks to it through comlink (src/api/); tests and the
// CLI harness construct it directly in-thread. Every public method takes and returns structured-clonable
// values (or comlink proxies for streaming callbacks).
import { type AdapterDescription, describeAdapter, requestAdapter } from '../gpu/device.ts';

export class Engine {
  /** The adapter this engine would run on, as WebGPU describes it (no device is created). */
  async adapterInfo(): Promise<AdapterDescription> {
    return describeAdapter(await requestAdapter());
  }
}

export type EngineApi = Engine;
