// The reference backend: every op of the Kernels facade as plain TypeScript loops (f64 accumulation).
import { createRefCoreOps } from './core/ref_core_ops.ts';
import { createRefLanguageOps } from './language/ref_language_ops.ts';
import type { Kernels } from './types.ts';
import { createRefVisionOps } from './vision/ref_vision_ops.ts';

export function createRefKernels(): Kernels {
  return { ...createRefCoreOps(), ...createRefVisionOps(), ...createRefLanguageOps() };
}
