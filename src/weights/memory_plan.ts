// GPU memory plan from config.json alone: exact bytes of every weight buffer for a given
// quantisation, grouped per component, the latent KV cache, an activation estimate, the largest
// single binding, and which tensors must be split to respect a device's binding limits.
//
// dtype policy = what `kimi-vl convert` writes (assemble.ts): q8/q4 quantise the LM linears and the
// embedding, vision/projector become f16; 'f16' turns every bf16 weight into f16; 'bf16' keeps the
// checkpoint's dtypes. Stored dtypes are assumed bf16, except the router bias (f32 in real
// checkpoints). GPU buffers are rounded up to 4 bytes (WebGPU copy/binding granularity).

import type { KimiVLConfig } from '../config/config.ts';
import { elementCount, type WeightSpec, weightTable } from '../config/weight_names.ts';
import { QUANT_BLOCK, quantBlockBytes, quantLayout } from '../tensor/quant_format.ts';
import type { WeightDType } from '../tensor/types.ts';
import { type AssembleOptions, assembledDType } from './assemble.ts';
import { tensorByteSize, WEIGHT_TO_SAFETENSORS } from './safetensors.ts';

export type PlanQuant = 'q4' | 'q8' | 'f16' | 'bf16';

export interface PlannedTensor {
  name: string;
  dtype: WeightDType;
  shape: number[];
  params: number;
  /** GPU buffer bytes (rounded up to 4). */
  bytes: number;
  component: string;
  layer?: number;
}

export interface MemoryPlan {
  quant: PlanQuant;
  context: number;
  tensors: PlannedTensor[];
  /** Per component: 'vision', 'projector', 'embed', 'layer i attention', ..., 'final norm', 'lm_head'. */
  components: { component: string; tensors: number; params: number; bytes: number }[];
  params: { vision: number; projector: number; language: number; total: number };
  weightBytes: number;
  /** layers × (kvLoraRank + qkRopeHeadDim) × 4 bytes (f32 latent cache). */
  kvBytesPerToken: number;
  kvCacheBytes: number;
  /** One layer's latent cache buffer [context, kvLoraRank + qkRopeHeadDim] f32. */
  kvLayerBytes: number;
  activationBytes: number;
  totalBytes: number;
  largestBinding: { name: string; bytes: number };
}

export interface PlanOptions {
  quant: PlanQuant;
  context: number;
  /** Tokens per prefill chunk for the activation estimate (default min(context, 2048)). */
  prefillTokens?: number;
  /** Patches of the largest image for the activation estimate (default 4096, the Instruct in_token_limit). */
  visionPatches?: number;
}

function assembleOptions(q: PlanQuant): AssembleOptions {
  if (q === 'bf16') return { quant: 'none' };
  if (q === 'f16') return { quant: 'none', f16: 'all' };
  return { quant: q, f16: 'vision' };
}

function componentOf(spec: WeightSpec): string {
  if (spec.layer === undefined)
    return {
      vision: 'vision',
      projector: 'projector',
      embed: 'embed',
      head: 'lm_head',
      final_norm: 'final norm',
    }[spec.part as 'vision'];
  const kind = spec.part === 'attn' || spec.part === 'norm' ? 'attention+norms' : spec.part;
  return `layer ${spec.layer} ${kind}`;
}

const align4 = (n: number) => Math.ceil(n / 4) * 4;

/**
 * Activation estimate (f32): the largest set of buffers live at once, assuming attention kernels
 * keep at most one head's score block [T, context] (no full [H, T, context] tensor).
 */
function activationEstimate(c: KimiVLConfig, context: number, T: number, L: number): number {
  const t = c.text;
  const v = c.vision;
  const attn =
    T * t.numHeads * (t.qkNopeHeadDim + t.qkRopeHeadDim) +
    T * (t.kvLoraRank + t.qkRopeHeadDim) +
    T * t.numHeads * t.vHeadDim +
    T * context;
  const ffn = Math.max(
    2 * T * t.intermediateSize,
    2 * T * t.numExpertsPerTok * t.moeIntermediateSize + 2 * T * t.moeIntermediateSize * t.nSharedExperts,
  );
  const lm = 3 * T * t.hiddenSize + Math.max(attn, ffn) + t.vocabSize;
  const vision = 3 * L * v.hiddenSize + Math.max(3 * L * v.hiddenSize + L * L, L * v.intermediateSize);
  return 4 * Math.max(lm, vision);
}

export function planMemory(c: KimiVLConfig, opts: PlanOptions): MemoryPlan {
  const ao = assembleOptions(opts.quant);
  const tensors: PlannedTensor[] = weightTable(c).map((spec) => {
    const stored: WeightDType = spec.name.endsWith('router_bias') ? 'f32' : 'bf16';
    const dtype = assembledDType(spec, stored, ao);
    return {
      name: spec.name,
      dtype,
      shape: spec.shape,
      params: elementCount(spec.shape),
      bytes: align4(tensorByteSize(WEIGHT_TO_SAFETENSORS[dtype], spec.shape)),
      component: componentOf(spec),
      layer: spec.layer,
    };
  });
  const components = new Map<string, { component: string; tensors: number; params: number; bytes: number }>();
  const params = { vision: 0, projector: 0, language: 0, total: 0 };
  for (const t of tensors) {
    const e = components.get(t.component) ?? { component: t.component, tensors: 0, params: 0, bytes: 0 };
    components.set(t.component, e);
    e.tensors++;
    e.params += t.params;
    e.bytes += t.bytes;
    const key = t.component === 'vision' || t.component === 'projector' ? t.component : 'language';
    params[key] += t.params;
    params.total += t.params;
  }
  const tx = c.text;
  const kvLayerBytes = opts.context * (tx.kvLoraRank + tx.qkRopeHeadDim) * 4;
  const kvBytesPerToken = tx.numLayers * (tx.kvLoraRank + tx.qkRopeHeadDim) * 4;
  const weightBytes = tensors.reduce((a, t) => a + t.bytes, 0);
  const T = opts.prefillTokens ?? Math.min(opts.context, 2048);
  const activationBytes = activationEstimate(c, opts.context, T, opts.visionPatches ?? 4096);
  let largestBinding = { name: 'kv cache (one layer)', bytes: kvLayerBytes };
  for (const t of tensors)
    if (t.bytes > largestBinding.bytes) largestBinding = { name: t.name, bytes: t.bytes };
  return {
    quant: opts.quant,
    context: opts.context,
    tensors,
    components: [...components.values()],
    params,
    weightBytes,
    kvBytesPerToken,
    kvCacheBytes: kvBytesPerToken * opts.context,
    kvLayerBytes,
    activationBytes,
    totalBytes: weightBytes + kvBytesPerToken * opts.context + activationBytes,
    largestBinding,
  };
}

export interface DeviceLimits {
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
}

/** WebGPU's default limits (what a device gets without requesting more). */
export const WEBGPU_DEFAULT_LIMITS: DeviceLimits = {
  maxBufferSize: 256 * 2 ** 20,
  maxStorageBufferBindingSize: 128 * 2 ** 20,
};

export interface TensorSplit {
  name: string;
  bytes: number;
  /** 'experts' when whole experts fit in a part (stacked weights), else 'rows'. */
  axis: 'experts' | 'rows';
  parts: number;
  /** Experts or rows per part (the last part may hold fewer). */
  perPart: number;
}

export interface DeviceFit {
  fits: boolean;
  limit: number;
  splits: TensorSplit[];
  explanation: string[];
}

/** Bytes of `rows` rows of a weight stored as a standalone buffer. */
function rowsBytes(dtype: WeightDType, k: number, rows: number): number {
  if (dtype === 'q8' || dtype === 'q4') {
    const nb = Math.ceil(k / QUANT_BLOCK);
    return rows * nb * quantBlockBytes(dtype) + align4(rows * nb * 2);
  }
  return align4(rows * k * (dtype === 'f32' ? 4 : 2));
}

function splitTensor(t: PlannedTensor, limit: number): TensorSplit | null {
  if (t.bytes <= limit) return null;
  const k = t.shape[t.shape.length - 1]!;
  const rows = t.dtype === 'q8' || t.dtype === 'q4' ? quantLayout(t.dtype, t.shape).rows : t.params / k;
  if (t.shape.length === 3) {
    const [E, N] = t.shape as [number, number, number];
    const perExpert = rowsBytes(t.dtype, k, N);
    const experts = Math.floor(limit / perExpert);
    if (experts >= 1)
      return {
        name: t.name,
        bytes: t.bytes,
        axis: 'experts',
        parts: Math.ceil(E / experts),
        perPart: experts,
      };
  }
  // Largest row count whose standalone buffer fits (bytes grow monotonically with rows).
  let lo = 1;
  let hi = rows;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (rowsBytes(t.dtype, k, mid) <= limit) lo = mid;
    else hi = mid - 1;
  }
  return { name: t.name, bytes: t.bytes, axis: 'rows', parts: Math.ceil(rows / lo), perPart: lo };
}

/** Which buffers exceed the device's limits, and how each weight would be split along its rows. */
export function planFitsDevice(plan: MemoryPlan, limits: DeviceLimits): DeviceFit {
  const limit = Math.min(limits.maxBufferSize, limits.maxStorageBufferBindingSize);
  const splits = plan.tensors.map((t) => splitTensor(t, limit)).filter((s): s is TensorSplit => s !== null);
  const explanation: string[] = [];
  const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
  for (const s of splits)
    explanation.push(
      `${s.name} (${mib(s.bytes)}) > ${mib(limit)}: split into ${s.parts} parts of ≤ ${s.perPart} ${s.axis}`,
    );
  const kvFits = plan.kvLayerBytes <= limit;
  if (!kvFits)
    explanation.push(
      `one layer's KV cache (${mib(plan.kvLayerBytes)} at context ${plan.context}) > ${mib(limit)}: held in parts by position (or lower the context to ≤ ${Math.floor(limit / (plan.kvLayerBytes / plan.context))} for one buffer)`,
    );
  if (splits.length === 0 && kvFits) explanation.push(`every buffer fits the ${mib(limit)} binding limit`);
  return { fits: kvFits, limit, splits, explanation };
}
