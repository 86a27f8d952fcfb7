// The fallback when no Chromium is available (e.g. a GPU machine without apt): the same kernel and
// end-to-end sections on Dawn for Node (npm `webgpu`). Loaded through Vite's SSR module loader by
// bench/dawn_run.ts so the WGSL `?raw` imports resolve exactly as in the browser. No peer: ONNX Runtime
// Web's WebGPU backend needs a browser page.
import { GpuRuntime } from '../src/gpu/runtime.ts';
import { openCheckpointDir } from '../src/weights/node_source.ts';
import { checkpointModel } from './models.ts';
import { benchContext, kernelsSection, probeAdapter, stackSection, tinySection } from './sections.ts';
import type { BenchConfig, EndToEndRow, KernelRow, PeerRow } from './types.ts';

export interface DawnBenchInput {
  cfg: BenchConfig;
  tinyDir: string | null;
  fullConfigJson: Record<string, unknown>;
}

export async function runDawnBench(input: DawnBenchInput) {
  const rt = await GpuRuntime.create();
  const probe = probeAdapter(rt);
  const failures: { section: string; message: string }[] = [];
  const kernels: KernelRow[] = [];
  const endToEnd: EndToEndRow[] = [];
  const peer: PeerRow[] = [
    {
      op: 'matvec',
      shape: '2048→1408',
      quant: 'q4',
      peerOp: 'MatMulNBits',
      skipped: 'skipped: ONNX Runtime Web needs a browser page (Dawn-for-Node run)',
    },
  ];
  const guard = async (section: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (e) {
      const message = (e as Error).message.split('\n')[0]!;
      console.error(`bench (dawn): ${section} failed: ${message}`);
      failures.push({ section, message });
    }
  };
  await guard('kernels', async () => {
    kernels.push(...(await kernelsSection(benchContext(rt, input.cfg))));
  });
  if (input.tinyDir) {
    const dir = input.tinyDir;
    for (const quant of input.cfg.smoke ? (['none'] as const) : (['none', 'q4'] as const))
      await guard('e2e-tiny', async () => {
        const m = await checkpointModel(await openCheckpointDir(dir), quant);
        const name = dir.split('/').filter(Boolean).pop() ?? 'tiny';
        endToEnd.push(await tinySection(benchContext(rt, input.cfg), name, quant, m));
      });
  }
  if (!input.cfg.smoke)
    await guard('e2e-stack', async () => {
      endToEnd.push(await stackSection(benchContext(rt, input.cfg), input.fullConfigJson, 'q4'));
    });
  rt.destroy();
  return {
    probe,
    kernels,
    peer,
    endToEnd,
    failures,
  };
}
