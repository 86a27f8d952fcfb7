// Harness task: run one golden case on the GPU backend (one runtime and model cache per page).
// `maxBindingBytes` (kimi-vl golden --max-binding-bytes N) caps maxStorageBufferBindingSize below the
// device's: tensors over N are held in parts, the limit guard refuses any storage buffer or binding
// above N (GpuLimitError), and the
// report carries the largest buffer and binding the guard saw, the proof that nothing larger was used.

import { browserGoldenIO } from '../../golden/browser_io.ts';
import { type CaseReport, GoldenRunner } from '../../golden/run_case.ts';
import { acquireDevice } from '../../gpu/device.ts';
import { effectiveLimits, installLimitGuard, type LimitGuard } from '../../gpu/limit_guard.ts';
import { GpuRuntime } from '../../gpu/runtime.ts';
import { createGpuKernels } from '../../kernels/gpu_kernels.ts';

let runner: Promise<{ runner: GoldenRunner; guard: LimitGuard }> | null = null;
let runnerKey = '';

export interface GoldenTaskReport extends CaseReport {
  guard: LimitGuard['seen'] & { maxStorageBufferBindingSize: number };
}

export async function runGoldenTask(arg: {
  caseDir: string;
  quant: 'none' | 'q8' | 'q4';
  /** A converted copy of the case's model to run instead. */
  modelDir?: string;
  maxBindingBytes?: number;
}): Promise<GoldenTaskReport> {
  const key = `${arg.quant}/${arg.maxBindingBytes ?? ''}`;
  if (!runner || runnerKey !== key) {
    runnerKey = key;
    runner = acquireDevice().then((acquired) => {
      const cap = arg.maxBindingBytes ? { maxStorageBufferBindingSize: arg.maxBindingBytes } : undefined;
      const guard = installLimitGuard(acquired.device, effectiveLimits(acquired.device.limits, cap));
      const rt = GpuRuntime.fromDevice(acquired);
      const k = createGpuKernels(rt);
      return { runner: new GoldenRunner(k, browserGoldenIO, arg.quant, arg.maxBindingBytes), guard };
    });
  }
  const r = await runner;
  const report = await r.runner.run(arg.caseDir, arg.modelDir);
  return {
    ...report,
    guard: { ...r.guard.seen, maxStorageBufferBindingSize: r.guard.limits.maxStorageBufferBindingSize },
  };
}
