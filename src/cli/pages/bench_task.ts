// Harness task for `kimi-vl bench`: one section per call (so the CLI can report progress and a failing
// section does not lose the others), all on one GpuRuntime kept for the page's lifetime.
import { loadCheckpointModel } from '../../../bench/models.ts';
import { loadOrt } from '../../../bench/peer_ort.ts';
import {
  benchContext,
  kernelsSection,
  peerSection,
  stackSection,
  tinySection,
} from '../../../bench/sections.ts';
import type { BenchConfig } from '../../../bench/types.ts';
import { GpuRuntime } from '../../gpu/runtime.ts';

export type BenchSection =
  | { section: 'conditions' }
  | { section: 'kernels' | 'peer'; cfg: BenchConfig }
  | { section: 'e2e-tiny'; cfg: BenchConfig; modelUrl: string; quant: 'none' | 'q8' | 'q4' }
  | { section: 'e2e-stack'; cfg: BenchConfig; quant: 'q8' | 'q4' };

let runtime: Promise<GpuRuntime> | null = null;

export async function runBenchTask(arg: BenchSection): Promise<unknown> {
  runtime ??= GpuRuntime.create();
  const rt = await runtime;
  switch (arg.section) {
    case 'conditions': {
      const ort = await loadOrt();
      const lim = rt.device.limits;
      return {
        userAgent: navigator.userAgent,
        info: rt.info,
        features: rt.features,
        maxBufferSize: lim.maxBufferSize,
        maxStorageBufferBindingSize: lim.maxStorageBufferBindingSize,
        ortVersion: ort.env.versions.web ?? 'unknown',
      };
    }
    case 'kernels':
      return kernelsSection(benchContext(rt, arg.cfg));
    case 'peer':
      return peerSection(benchContext(rt, arg.cfg));
    case 'e2e-tiny': {
      const name = arg.modelUrl.split('/').filter(Boolean).pop() ?? 'tiny';
      return tinySection(
        benchContext(rt, arg.cfg),
        name,
        arg.quant,
        await loadCheckpointModel(arg.modelUrl, arg.quant),
      );
    }
    case 'e2e-stack': {
      const raw = await (await fetch(`${location.origin}/configs/Kimi-VL-A3B-Instruct.config.json`)).json();
      return stackSection(benchContext(rt, arg.cfg), raw, arg.quant);
    }
  }
}
