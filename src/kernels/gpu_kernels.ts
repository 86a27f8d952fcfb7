// The WebGPU backend: every op of the Kernels facade recorded into the runtime's command stream.
import type { GpuRuntime } from '../gpu/runtime.ts';
import { createGpuCoreOps } from './core/gpu_core_ops.ts';
import { createGpuLanguageOps } from './language/gpu_language_ops.ts';
import type { Kernels } from './types.ts';
import { createGpuVisionOps } from './vision/gpu_vision_ops.ts';

export function createGpuKernels(rt: GpuRuntime): Kernels {
  return { ...createGpuCoreOps(rt), ...createGpuVisionOps(rt), ...createGpuLanguageOps(rt) };
}
