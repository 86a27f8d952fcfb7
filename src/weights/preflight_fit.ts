// Can this adapter run this model as planned? From config.json (+ preprocessor) and the adapter's limits
// alone, before any weight is fetched: the memory plan (memory_plan.ts) at the quantisation and context
// asked for, every buffer checked against maxStorageBufferBindingSize / maxBufferSize. The engine does
// not split tensors into parts yet (ENGINE_SPLITS_TENSORS), so any buffer over the limits means "does
// not fit" and the load stops with GpuLimitError, saying what is needed against what is available.
import type { ImageProcessorConfig, KimiVLConfig } from '../config/config.ts';
import { KimiVLError } from '../errors.ts';
import { maxImageTokens } from '../vision/preprocessor_config.ts';
import {
  type DeviceLimits,
  type MemoryPlan,
  type PlanQuant,
  planFitsDevice,
  planMemory,
} from './memory_plan.ts';
import { formatBytes } from './summary.ts';

/**
 * Whether the kernels can work on a tensor held in parts. False until the split kernels land: a plan
 * that needs a split is then a plan that cannot run (plan, check and load all say so).
 */
export const ENGINE_SPLITS_TENSORS = false;

/** The default KV budget before a preprocessor is known (and the floor when one is). */
export const BASE_CONTEXT_BUDGET = 4096;
/** Text (prompt + answer) the default budget leaves room for beside one maximum-size image. */
export const PROMPT_RESERVE_TOKENS = 2048;

/** 'none' = the weights as stored (bf16 for a Hugging Face checkpoint, the converted form otherwise). */
export type Quantization = 'none' | 'q8' | 'q4';

/**
 * The default context budget: room for one maximum-size image plus a prompt, at least 4096, at most the
 * model's max_position_embeddings. Instruct (in_token_limit 4096): 4096. Thinking-2506 (16384): 16384.
 */
export function defaultContextBudget(config: KimiVLConfig, pre: ImageProcessorConfig | null): number {
  const image = pre ? Math.max(pre.inTokenLimit, maxImageTokens(pre) + PROMPT_RESERVE_TOKENS) : 0;
  return Math.min(config.text.maxPositionEmbeddings, Math.max(BASE_CONTEXT_BUDGET, image));
}

/** The memory-plan word for a load's quantisation and the checkpoint's stored form. */
export function planQuantFor(q: Quantization, stored: 'bf16' | 'q8' | 'q4' | 'f16'): PlanQuant {
  return q === 'none' ? stored : q;
}

export interface FitInput {
  config: KimiVLConfig;
  preprocessor: ImageProcessorConfig | null;
  quant: PlanQuant;
  context: number;
  /** The adapter's limits (or as capped by the `limits` option); null when no adapter is known. */
  limits: DeviceLimits | null;
}

export interface ModelFit {
  fits: boolean;
  /** Why it does not fit, or what the caller should know (one sentence each). */
  reasons: string[];
  plan: MemoryPlan;
  /** Weights + KV cache + activation estimate. */
  gpuBytes: number;
  largestBinding: { name: string; bytes: number };
  /** The smallest limits this plan runs under without splitting (what to request from the device). */
  needs: DeviceLimits;
}

export function fitModel(a: FitInput): ModelFit {
  const visionPatches = a.preprocessor ? a.preprocessor.inTokenLimit : undefined;
  const plan = planMemory(a.config, { quant: a.quant, context: a.context, visionPatches });
  const needs: DeviceLimits = {
    maxStorageBufferBindingSize: plan.largestBinding.bytes,
    maxBufferSize: plan.largestBinding.bytes,
  };
  const reasons: string[] = [];
  let fits = true;
  if (a.limits) {
    const fit = planFitsDevice(plan, a.limits);
    const limit = fit.limit;
    if (!fit.fits) {
      fits = false;
      reasons.push(
        `one layer's KV cache is ${formatBytes(plan.kvLayerBytes)} at context ${a.context}, over the ` +
          `${formatBytes(limit)} buffer limit; lower contextBudget`,
      );
    }
    if (fit.splits.length > 0 && !ENGINE_SPLITS_TENSORS) {
      fits = false;
      const worst = fit.splits.reduce((x, y) => (y.bytes > x.bytes ? y : x));
      reasons.push(
        `${fit.splits.length} weight(s) exceed the ${formatBytes(limit)} buffer limit ` +
          `(maxStorageBufferBindingSize ${formatBytes(a.limits.maxStorageBufferBindingSize)}, maxBufferSize ` +
          `${formatBytes(a.limits.maxBufferSize)}); the largest, ${worst.name}, needs ${formatBytes(worst.bytes)}. ` +
          'kimi-vl-web cannot split tensors yet: use a smaller quantisation or a GPU with larger limits',
      );
    }
  } else {
    reasons.push('no WebGPU adapter was queried: the GPU limits were not checked');
  }
  return {
    fits,
    reasons,
    plan,
    gpuBytes: plan.totalBytes,
    largestBinding: plan.largestBinding,
    needs,
  };
}

/** Throws GpuLimitError unless the model fits (the load's check, before any weight is fetched). */
export function assertFits(fit: ModelFit, what: string): void {
  if (fit.fits) return;
  throw new KimiVLError(
    'GpuLimitError',
    `${what} cannot run on this GPU: ${fit.reasons.join('; ')}. It needs a binding of ` +
      `${formatBytes(fit.needs.maxStorageBufferBindingSize)} (${fit.largestBinding.name}) and about ` +
      `${formatBytes(fit.gpuBytes)} of GPU memory.`,
  );
}
