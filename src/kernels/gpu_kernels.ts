// The WebGPU backend: every op of the Kernels facade recorded into the runtime's command stream.
import { replayerFor } from '../gpu/replay/replayer.ts';
import type { GpuRuntime } from '../gpu/runtime.ts';
import { asGpu } from '../gpu/tensor.ts';
import { createGpuCoreOps } from './core/gpu_core_ops.ts';
import { createGpuLanguageOps } from './language/gpu_language_ops.ts';
import type { SplitPolicy } from './parts_upload.ts';
import type { Kernels } from './types.ts';
import { createGpuVisionOps } from './vision/gpu_vision_ops.ts';

/**
 * `split: false` never splits a tensor over the buffer limits (GpuLimitError instead): tests use it to show
 * the limit is real. By default weights and caches over the limits are held in parts.
 */
export function createGpuKernels(rt: GpuRuntime, policy: SplitPolicy = { split: true }): Kernels {
  return {
    ...createGpuCoreOps(rt, policy),
    ...createGpuVisionOps(rt),
    ...createGpuLanguageOps(rt),
    // the kernel choices pick the command stream too (tests switch them between steps)
    replayable: (slot, key, at, walk) =>
      replayerFor(rt).run(slot, [...key, JSON.stringify(rt.tuning)], at, () => asGpu(walk())),
  };
}
