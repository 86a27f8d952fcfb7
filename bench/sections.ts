// The benchmark's sections on one GpuRuntime, independent of where it runs: the browser harness task
// (bench/pages/bench_task.ts) and the Dawn-for-Node fallback (bench/dawn_task.ts) both call these.

import { parseConfig } from '../src/config/config.ts';
import type { AdapterDescription } from '../src/gpu/device.ts';
import type { GpuRuntime } from '../src/gpu/runtime.ts';
import { createGpuKernels } from '../src/kernels/gpu_kernels.ts';
import { benchCopy } from './bandwidth.ts';
import { runEndToEnd } from './e2e_bench.ts';
import { runImageTtft } from './image_ttft.ts';
import { type BenchContext, runKernelBenches } from './kernel_bench.ts';
import { runMlaDecodeBenches } from './mla_bench.ts';
import { type LoadedModel, stackConfig, syntheticModel } from './models.ts';
import { runPeerBenches } from './peer_bench.ts';
import { runPerTokenCounts } from './per_token.ts';
import type {
  BandwidthRow,
  BenchConfig,
  EndToEndRow,
  ImageTtftRow,
  KernelRow,
  MlaDecodeRow,
  PeerRow,
  PerTokenRow,
} from './types.ts';

export const log = (s: string) => console.log(`[bench] ${s}`);

export function isCpuAdapter(rt: GpuRuntime): boolean {
  return (
    rt.info.isFallbackAdapter ||
    /swiftshader/i.test(rt.info.description + rt.info.architecture + rt.info.vendor)
  );
}

/** What the run's conditions need from the GPU side (bench/output.ts benchConditions builds them). */
export interface AdapterProbe {
  info: AdapterDescription;
  timestampQuery: boolean;
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
}

export function probeAdapter(rt: GpuRuntime): AdapterProbe {
  const lim = rt.device.limits;
  return {
    info: rt.info,
    timestampQuery: rt.features.timestampQuery,
    maxBufferSize: lim.maxBufferSize,
    maxStorageBufferBindingSize: lim.maxStorageBufferBindingSize,
  };
}

export function benchContext(rt: GpuRuntime, cfg: BenchConfig): BenchContext {
  const cpu = isCpuAdapter(rt);
  // a CPU adapter gets few, long samples under a time budget; a GPU many short ones back to back
  const budgetMs = cpu ? (cfg.quick ? 1500 : 4000) : undefined;
  return {
    rt,
    k: createGpuKernels(rt),
    cfg,
    cpu,
    timing: { warmup: cfg.warmup, reps: cfg.reps, batch: cpu ? 1 : 20, budgetMs },
  };
}

export const kernelsSection = (c: BenchContext): Promise<KernelRow[]> => runKernelBenches(c, log);
export const peerSection = (c: BenchContext): Promise<PeerRow[]> => runPeerBenches(c, log);
export const mlaSection = (c: BenchContext): Promise<MlaDecodeRow[]> => runMlaDecodeBenches(c, log);

export async function bandwidthSection(c: BenchContext): Promise<BandwidthRow[]> {
  const r = await benchCopy(c);
  log(`${r.op}: ${r.gbps?.toFixed(2)} GB/s`);
  return [r];
}

/** The real 27-layer config on the counting backend (no GPU work): per-token counts at 4K and 32K. */
export function perTokenSection(
  fullConfigJson: Record<string, unknown>,
  smoke: boolean,
): Promise<PerTokenRow[]> {
  const cfg = parseConfig(fullConfigJson, 'Kimi-VL-A3B-Instruct');
  return runPerTokenCounts(cfg, log, smoke ? [4096] : [4096, 32768]);
}

export function tinySection(
  c: BenchContext,
  name: string,
  quant: string,
  m: LoadedModel,
): Promise<EndToEndRow> {
  const small = c.cfg.smoke;
  return runEndToEnd(c.rt, c.k, {
    model: name,
    quant: quant === 'none' ? 'bf16' : quant,
    ...m,
    imageSides: small ? [4] : c.cpu ? [4, 8] : [4, 8, 16, 32],
    promptTokens: small ? 8 : 32,
    decodeSteps: small ? 4 : c.cpu ? 8 : 32,
    reps: Math.max(1, Math.min(c.cfg.reps, 5)),
  });
}

const STACK_NAME = 'real-size stack (1 ViT block @1152, dense + MoE layer @2048, vocab 4096)';

/** Kimi-VL-A3B's config (configs/Kimi-VL-A3B-Instruct.config.json) cut to the real-size stack. */
export function stackSection(c: BenchContext, fullConfigJson: Record<string, unknown>, quant: 'q8' | 'q4') {
  const m = syntheticModel(stackConfig(fullConfigJson), quant);
  const q = c.cfg.quick;
  return runEndToEnd(c.rt, c.k, {
    model: STACK_NAME,
    quant: `${quant} (vision f16)`,
    ...m,
    imageSides: c.cpu ? (q ? [8] : [8, 16]) : q ? [16, 32] : [16, 32, 64],
    promptTokens: c.cpu ? 16 : 64,
    decodeSteps: c.cpu ? 3 : q ? 8 : 32,
    reps: c.cpu ? 1 : Math.max(1, Math.min(c.cfg.reps, 3)),
    note: 'random weights at the real sizes; per-token figures cover 2 of the 27 LM layers',
  });
}

/**
 * TTFT per image size before/after #14's kernels: the real-size stack (q4, vision f16) at 224², 448² and
 * 896², or (--smoke) a loaded tiny checkpoint at 56².
 */
export function imageTtftSection(
  c: BenchContext,
  fullConfigJson: Record<string, unknown>,
  tiny?: LoadedModel,
): Promise<ImageTtftRow[]> {
  if (tiny) return runImageTtft(c, { model: 'tiny', quant: 'bf16', ...tiny, sides: [4], promptText: 8 }, log);
  const m = syntheticModel(stackConfig(fullConfigJson), 'q4');
  return runImageTtft(
    c,
    { model: STACK_NAME, quant: 'q4 (vision f16)', ...m, sides: [16, 32, 64], promptText: 16 },
    log,
  );
}
