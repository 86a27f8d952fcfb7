// Harness task for `kimi-vl bench`: one section per call (so the CLI can report progress and a failing
// section does not lose the others), all on one GpuRuntime kept for the page's lifetime. It lives in
// bench/ and is named to the CLI's page from here (bench/cli_command.ts: taskModules), so the engine's
// harness never imports the benchmark.
import { GpuRuntime } from '../../src/gpu/runtime.ts';
import { loadCheckpointModel } from '../models.ts';
import { loadOrt } from '../peer_ort.ts';
import {
  type AdapterProbe,
  bandwidthSection,
  benchContext,
  imageTtftSection,
  kernelsSection,
  mlaSection,
  peerSection,
  perTokenSection,
  probeAdapter,
  stackSection,
  tinySection,
} from '../sections.ts';
import type { BenchConfig } from '../types.ts';

export type BenchSection =
  | { section: 'conditions' }
  | { section: 'kernels' | 'peer' | 'bandwidth' | 'mla' | 'per-token'; cfg: BenchConfig }
  | { section: 'e2e-tiny'; cfg: BenchConfig; modelUrl: string; quant: 'none' | 'q8' | 'q4' }
  | { section: 'e2e-stack'; cfg: BenchConfig; quant: 'q8' | 'q4' }
  /** modelUrl: the tiny checkpoint instead of the real-size stack (--smoke). */
  | { section: 'image-ttft'; cfg: BenchConfig; modelUrl?: string };

/** The 'conditions' section: the adapter, plus what only the page knows. */
export interface PageConditions {
  probe: AdapterProbe;
  userAgent: string;
  ortVersion: string;
}

let runtime: Promise<GpuRuntime> | null = null;

const fullConfigJson = async (): Promise<Record<string, unknown>> =>
  (await fetch(`${location.origin}/configs/Kimi-VL-A3B-Instruct.config.json`)).json();

export async function runTask(arg: BenchSection): Promise<unknown> {
  runtime ??= GpuRuntime.create();
  const rt = await runtime;
  switch (arg.section) {
    case 'conditions': {
      const ort = await loadOrt();
      const pc: PageConditions = {
        probe: probeAdapter(rt),
        userAgent: navigator.userAgent,
        ortVersion: ort.env.versions.web ?? 'unknown',
      };
      return pc;
    }
    case 'kernels':
      return kernelsSection(benchContext(rt, arg.cfg));
    case 'peer':
      return peerSection(benchContext(rt, arg.cfg));
    case 'bandwidth':
      return bandwidthSection(benchContext(rt, arg.cfg));
    case 'mla':
      return mlaSection(benchContext(rt, arg.cfg));
    case 'per-token':
      return perTokenSection(await fullConfigJson(), arg.cfg.smoke);
    case 'e2e-tiny': {
      const name = arg.modelUrl.split('/').filter(Boolean).pop() ?? 'tiny';
      return tinySection(
        benchContext(rt, arg.cfg),
        name,
        arg.quant,
        await loadCheckpointModel(arg.modelUrl, arg.quant),
      );
    }
    case 'e2e-stack':
      return stackSection(benchContext(rt, arg.cfg), await fullConfigJson(), arg.quant);
    case 'image-ttft':
      return imageTtftSection(
        benchContext(rt, arg.cfg),
        await fullConfigJson(),
        arg.modelUrl ? await loadCheckpointModel(arg.modelUrl, 'none') : undefined,
      );
  }
}
