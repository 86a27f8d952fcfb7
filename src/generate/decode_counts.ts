// Per-token host figures of a decode loop, measured on the counting backend (src/gpu/counting.ts): the
// real 27-layer config runs through the very generate() loop, kernels and runtime the app uses, with no
// adapter and no weight bytes. Each token's row holds what the runtime did between two streamed tokens
// (dispatches, submits, readbacks, uniform bytes uploaded, bytes the kernels say they read).
//
// The context is set up without computing it: the KV cache is told it already holds `context` positions
// (their values are never read on this backend), so contexts of 4K and 32K cost nothing to reach.
import type { KimiVLConfig } from '../config/config.ts';
import { type CountingOptions, createCountingRuntime } from '../gpu/counting.ts';
import type { RuntimeStats } from '../gpu/runtime.ts';
import { createGpuKernels } from '../kernels/gpu_kernels.ts';
import { KimiVLModel } from '../model/kimi_vl.ts';
import type { HostWeight } from '../tensor/types.ts';
import { type PlanQuant, planMemory } from '../weights/memory_plan.ts';
import { generate } from './generate.ts';
import { resolveGenerateOptions } from './params.ts';
import { TimingRecorder } from './timings.ts';

export interface DecodeCountOptions extends CountingOptions {
  /** Weight dtypes as the memory plan assigns them (default q4). */
  quant?: PlanQuant;
  /** Positions already in the KV cache before decoding (default 16). */
  context?: number;
  /** Tokens to decode (default 6; the first is the prefill's, the rest are decode steps). */
  tokens?: number;
  /** Sampling: greedy unless set (top-k/top-p add the sampler's passes). */
  temperature?: number;
  topK?: number;
  topP?: number;
  repetitionPenalty?: number;
  /** Generation loop variant (see GenerateRequest.pipelined). */
  pipelined?: boolean;
  /** Replay recorded decode steps (GenerateRequest.replay; default on). */
  replay?: boolean;
  /** Sampler mode (Tuning.sampler; default: the runtime's). */
  sampler?: 'split' | 'single';
}

export type TokenCounts = Pick<
  RuntimeStats,
  | 'dispatches'
  | 'submits'
  | 'readbacks'
  | 'uniformBytes'
  | 'bytesRead'
  | 'weightBytes'
  | 'bindGroupsCreated'
  | 'replayed'
> & {
  pipelinesCreated: number;
  buffersCreated: number;
  /** What the device itself saw (the runtime's counters must agree). */
  deviceDispatches: number;
  deviceSubmits: number;
  deviceWriteBytes: number;
};

export interface DecodeCounts {
  /** One row per decoded token after the first (the first token comes from the prefill). */
  perToken: TokenCounts[];
  /**
   * A middle row: the steady state every token of a long answer repeats (the figure to report). The last
   * rows are not: the loop's end (the last token is never fed, nor speculated) makes them lighter.
   */
  steady: TokenCounts;
  context: number;
  quant: PlanQuant;
}

/** Engine-named weights with the plan's dtype and shape and no bytes (the counting runtime needs none). */
export function shapeOnlyWeights(cfg: KimiVLConfig, quant: PlanQuant): Map<string, HostWeight> {
  const host = new Map<string, HostWeight>();
  for (const t of planMemory(cfg, { quant, context: 1 }).tensors)
    host.set(t.name, { dtype: t.dtype, shape: [...t.shape], bytes: new Uint8Array(0) });
  return host;
}

/** Decodes `tokens` tokens of `cfg` at `context` positions on the counting backend, counting each. */
export async function countDecode(cfg: KimiVLConfig, opts: DecodeCountOptions = {}): Promise<DecodeCounts> {
  const quant = opts.quant ?? 'q4';
  const context = Math.max(1, opts.context ?? 16);
  const tokens = Math.max(2, opts.tokens ?? 6);
  const { rt, log } = createCountingRuntime(opts);
  if (opts.sampler) rt.tuning.sampler = opts.sampler;
  const k = createGpuKernels(rt);
  const model = KimiVLModel.load(k, cfg, shapeOnlyWeights(cfg, quant));
  const cache = model.newCache(k, context + tokens + 1);
  const ids = new Array<number>(context).fill(0);
  cache.commit(0, ids); // the cache "holds" the prompt but its last row, which the prefill computes
  const snap = (): TokenCounts => ({
    dispatches: rt.stats.dispatches,
    submits: rt.stats.submits,
    readbacks: rt.stats.readbacks,
    uniformBytes: rt.stats.uniformBytes,
    bytesRead: rt.stats.bytesRead,
    weightBytes: rt.stats.weightBytes,
    bindGroupsCreated: rt.stats.bindGroupsCreated,
    replayed: rt.stats.replayed,
    pipelinesCreated: log.pipelinesCreated,
    buffersCreated: log.buffersCreated,
    deviceDispatches: log.dispatches,
    deviceSubmits: log.submits,
    deviceWriteBytes: log.writeBufferBytes,
  });
  const rows: TokenCounts[] = [];
  let last: TokenCounts | null = null;
  await generate(k, model, cache, {
    ids,
    features: null,
    options: resolveGenerateOptions(
      {
        maxTokens: tokens,
        temperature: opts.temperature ?? 0,
        topK: opts.topK,
        topP: opts.topP,
        repetitionPenalty: opts.repetitionPenalty,
        seed: 1,
      },
      false,
    ),
    stopIds: [],
    isCancelled: () => false,
    onToken: () => {
      const now = snap();
      if (last) rows.push(diff(now, last));
      last = now;
    },
    timings: new TimingRecorder(),
    ...(opts.pipelined === undefined ? {} : { pipelined: opts.pipelined }),
    ...(opts.replay === undefined ? {} : { replay: opts.replay }),
  });
  rt.destroy();
  return { perToken: rows, steady: rows[Math.floor((rows.length - 1) / 2)]!, context, quant };
}

function diff(a: TokenCounts, b: TokenCounts): TokenCounts {
  const out = { ...a };
  for (const key of Object.keys(a) as (keyof TokenCounts)[]) out[key] = a[key] - b[key];
  return out;
}
