// Harness task: run one golden case on the GPU backend (one runtime and model cache per page).

import { browserGoldenIO } from '../../golden/browser_io.ts';
import { type CaseReport, GoldenRunner } from '../../golden/run_case.ts';
import { GpuRuntime } from '../../gpu/runtime.ts';
import { createGpuKernels } from '../../kernels/gpu_kernels.ts';

let runner: Promise<GoldenRunner> | null = null;
let runnerQuant = '';

export async function runGoldenTask(arg: {
  caseDir: string;
  quant: 'none' | 'q8' | 'q4';
  /** A converted copy of the case's model to run instead. */
  modelDir?: string;
}): Promise<CaseReport> {
  if (!runner || runnerQuant !== arg.quant) {
    runnerQuant = arg.quant;
    runner = GpuRuntime.create().then(
      (rt) => new GoldenRunner(createGpuKernels(rt), browserGoldenIO, arg.quant),
    );
  }
  return (await runner).run(arg.caseDir, arg.modelDir);
}
