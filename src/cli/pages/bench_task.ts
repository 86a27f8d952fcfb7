// Harness task for `kimi-vl bench`: one section per call (so the CLI can report progress and a failing
// section does not lose the others), all on one GpuRuntime kept for the page's lifetime.

import { runEndToEnd } from '../../../bench/e2e_bench.ts';
import { type BenchContext, runKernelBenches } from '../../../bench/kernel_bench.ts';
import { loadCheckpointModel, stackConfig, syntheticModel } from '../../../bench/models.ts';
import { runPeerBenches } from '../../../bench/peer_bench.ts';
import { loadOrt } from '../../../bench/peer_ort.ts';
import type { BenchConfig } from '../../../bench/types.ts';
import { GpuRuntime } from '../../gpu/runtime.ts';
import { createGpuKernels } from '../../kernels/gpu_kernels.ts';

export type BenchSection =
  | { section: 'conditions' }
  | { section: 'kernels' | 'peer'; cfg: BenchConfig }
  | { section: 'e2e-tiny'; cfg: BenchConfig; modelUrl: string; quant: 'none' | 'q8' | 'q4' }
  | { section: 'e2e-stack'; cfg: BenchConfig; quant: 'q8' | 'q4' };

let ctx: Promise<{ rt: GpuRuntime; k: ReturnType<typeof createGpuKernels> }> | null = null;

function context() {
  ctx ??= GpuRuntime.create().then((rt) => ({ rt, k: createGpuKernels(rt) }));
  return ctx;
}

const log = (s: string) => console.log(`[bench] ${s}`);

function isCpuAdapter(rt: GpuRuntime): boolean {
  return rt.info.isFallbackAdapter || /swiftshader/i.test(rt.info.description + rt.info.architecture);
}

function benchContext(c: Awaited<ReturnType<typeof context>>, cfg: BenchConfig): BenchContext {
  const cpu = isCpuAdapter(c.rt);
  // a CPU adapter gets few, long samples under a time budget; a GPU many short ones back to back
  const budgetMs = cpu ? (cfg.quick ? 1500 : 4000) : undefined;
  return { ...c, cfg, cpu, timing: { warmup: cfg.warmup, reps: cfg.reps, batch: cpu ? 1 : 20, budgetMs } };
}

export async function runBenchTask(arg: BenchSection): Promise<unknown> {
  const c = await context();
  switch (arg.section) {
    case 'conditions': {
      const ort = await loadOrt();
      const lim = c.rt.device.limits;
      return {
        userAgent: navigator.userAgent,
        info: c.rt.info,
        features: c.rt.features,
        maxBufferSize: lim.maxBufferSize,
        maxStorageBufferBindingSize: lim.maxStorageBufferBindingSize,
        ortVersion: ort.env.versions.web ?? 'unknown',
      };
    }
    case 'kernels':
      return runKernelBenches(benchContext(c, arg.cfg), log);
    case 'peer':
      return runPeerBenches(benchContext(c, arg.cfg), log);
    case 'e2e-tiny': {
      const m = await loadCheckpointModel(arg.modelUrl, arg.quant);
      const small = arg.cfg.smoke;
      const cpu = isCpuAdapter(c.rt);
      return runEndToEnd(c.rt, c.k, {
        model: arg.modelUrl.split('/').filter(Boolean).pop() ?? 'tiny',
        quant: arg.quant === 'none' ? 'bf16' : arg.quant,
        ...m,
        imageSides: small ? [4] : cpu ? [4, 8] : [4, 8, 16, 32],
        promptTokens: small ? 8 : 32,
        decodeSteps: small ? 4 : cpu ? 8 : 32,
        reps: Math.max(1, Math.min(arg.cfg.reps, 5)),
      });
    }
    case 'e2e-stack': {
      const raw = await (await fetch(`${location.origin}/configs/Kimi-VL-A3B-Instruct.config.json`)).json();
      const cfg = stackConfig(raw);
      const m = syntheticModel(cfg, arg.quant);
      const q = arg.cfg.quick;
      const cpu = isCpuAdapter(c.rt);
      return runEndToEnd(c.rt, c.k, {
        model: 'real-size stack (1 ViT block @1152, dense + MoE layer @2048, vocab 4096)',
        quant: `${arg.quant} (vision f16)`,
        ...m,
        imageSides: cpu ? (q ? [8] : [8, 16]) : q ? [16, 32] : [16, 32, 64],
        promptTokens: cpu ? 16 : 64,
        decodeSteps: cpu ? 3 : q ? 8 : 32,
        reps: cpu ? 1 : Math.max(1, Math.min(arg.cfg.reps, 3)),
        note: 'random weights at the real sizes; per-token figures cover 2 of the 27 LM layers',
      });
    }
  }
}
