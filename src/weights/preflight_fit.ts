// Can this adapter run this model as planned? From config.json (+ preprocessor) and the adapter's limits
// alone, before any weight is fetched: the memory plan (memory_plan.ts) at the quantisation and context
// asked for, every buffer checked against maxStorageBufferBindingSize / maxBufferSize. Weights and KV
// caches over the limits are held in dim-0 parts (kernels/parts_upload.ts, ENGINE_SPLITS_TENSORS), so
// only a tensor whose single dim-0 slice exceeds the limit cannot run: then the load stops with
// GpuLimitError, saying what is needed against what is available.
import type { ImageProcessorConfig, KimiVLConfig } from '../config/config.ts';
import { KimiVLError } from '../errors.ts';
import { sliceBytes } from '../tensor/row_parts.ts';
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
 * Whether the kernels work on weights and KV caches held in parts (true since the split kernels landed;
 * `plan` and the preflight consult it, so a plan that needs splits counts as runnable).
 */
export const ENGINE_SPLITS_TENSORS = true;

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
  /** The binding size this plan needs from the device (its largest part; the largest tensor without limits). */
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
    // What is bound at most once tensors are in parts: the largest part, never above the limit.
    needs.maxStorageBufferBindingSize = Math.min(plan.largestBinding.bytes, limit);
    needs.maxBufferSize = needs.maxStorageBufferBindingSize;
    if (!ENGINE_SPLITS_TENSORS) {
      if (!fit.fits || fit.splits.length > 0) {
        fits = false;
        reasons.push(
          `${fit.splits.length} buffer(s) exceed the ${formatBytes(limit)} buffer limit and kimi-vl-web cannot split tensors in this build`,
        );
      }
    } else {
      const unsplittable = plan.tensors.filter((t) => sliceBytes(1, t.shape.slice(1), t.dtype) > limit);
      const kvRow = (a.config.text.kvLoraRank + a.config.text.qkRopeHeadDim) * 4;
      if (unsplittable.length > 0 || kvRow > limit) {
        fits = false;
        const worst = unsplittable[0];
        reasons.push(
          worst
            ? `${worst.name}: one slice along its first dimension needs ${formatBytes(sliceBytes(1, worst.shape.slice(1), worst.dtype))}, over the ${formatBytes(limit)} buffer limit (maxStorageBufferBindingSize ${formatBytes(a.limits.maxStorageBufferBindingSize)}, maxBufferSize ${formatBytes(a.limits.maxBufferSize)}); it cannot be split further`
            : `one KV cache row needs ${kvRow} bytes, over the ${formatBytes(limit)} buffer limit`,
        );
      } else if (fit.splits.length > 0 || !fit.fits) {
        reasons.push(
          `${fit.splits.length + (fit.fits ? 0 : 1)} buffer(s) exceed the ${formatBytes(limit)} buffer limit and are held in parts ` +
            `(the largest, ${plan.largestBinding.name}, is ${formatBytes(plan.largestBinding.bytes)})`,
        );
      }
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
    `${what} cannot run on this GPU: ${fit.reasons.join('; ')}. Its largest tensor is ` +
      `${fit.largestBinding.name} (${formatBytes(fit.largestBinding.bytes)}); it needs about ` +
      `${formatBytes(fit.gpuBytes)} of GPU memory.`,
  );
}
