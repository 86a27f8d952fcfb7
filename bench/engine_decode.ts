// Decode through the engine's own loop (src/generate/generate.ts: on the GPU backend the sampled id stays
// on the GPU and is read one step late, so the next step is queued while JavaScript waits), the "after"
// beside e2e_bench.ts's plain step → sample → read loop (the "before": the GPU idles while each id comes
// back and the next step is recorded). It runs twice: replaying the recorded decode step (src/gpu/replay/,
// the default) and walking the model every step (replay off). The prompt is one token, so the whole request
// is decode-shaped: wall time and GPU busy time (timestamp queries) per token cover every step alike.

import { generate } from '../src/generate/generate.ts';
import { canPipeline } from '../src/generate/generate_pipelined.ts';
import { resolveGenerateOptions } from '../src/generate/params.ts';
import { TimingRecorder } from '../src/generate/timings.ts';
import type { GpuRuntime } from '../src/gpu/runtime.ts';
import type { Kernels } from '../src/kernels/types.ts';
import type { KimiVLModel } from '../src/model/kimi_vl.ts';
import { USER_KV_CACHE_DTYPE } from '../src/model/kv_cache.ts';
import { startPassTimer } from './gpu_timestamps.ts';
import type { EngineDecode, EngineDecodeFigures } from './types.ts';

export async function engineDecode(
  rt: GpuRuntime,
  k: Kernels,
  model: KimiVLModel,
  firstId: number,
  steps: number,
): Promise<EngineDecode> {
  const cache = model.newCache(k, steps + 4, USER_KV_CACHE_DTYPE);
  const request = {
    ids: [firstId],
    features: null,
    options: resolveGenerateOptions({ maxTokens: steps + 1, temperature: 0, seed: 0 }, false),
    stopIds: [],
    isCancelled: () => false,
    onToken: () => {},
  };
  const run = async (replay: boolean) => {
    cache.reset();
    const timings = new TimingRecorder();
    const timer = startPassTimer(rt.device);
    await rt.sync();
    const before = { ...rt.stats };
    const t0 = performance.now();
    const r = await generate(k, model, cache, { ...request, replay, timings });
    const wallMs = performance.now() - t0;
    const busy = await timer?.stop();
    const n = r.tokens.length; // each token is one forward pass (the first is the 1-token prefill)
    const dispatches = rt.stats.dispatches - before.dispatches;
    const figures: EngineDecodeFigures = {
      tokPerS: timings.finish().decodeTokensPerSecond,
      replayedShare: dispatches ? (rt.stats.replayed - before.replayed) / dispatches : 0,
      ...(busy && !busy.overflowed
        ? { gpuBusyMs: busy.busyMs / n, gpuIdleMs: Math.max(0, wallMs - busy.busyMs) / n }
        : {}),
    };
    return figures;
  };
  try {
    await run(true); // warm: this loop's pipelines, bind groups, staging buffers and tapes
    await run(false);
    const walked = await run(false);
    const replayed = await run(true);
    return {
      ...replayed,
      walked,
      pipelined: canPipeline(k, model, { ...request, timings: new TimingRecorder() }),
    };
  } finally {
    cache.release(k);
  }
}
