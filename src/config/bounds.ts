// Sane maxima for every size a model's JSON files may declare, checked while the file is parsed, before
// any table is built, buffer allocated or loop run from the number. A config.json is untrusted input:
// `num_hidden_layers: 1e6` used to build a weight table of millions of entries and crash the page before
// a single tensor was looked at. The bounds are far above any released model (Kimi-VL-A3B: 27 layers,
// 64 experts, vocab 163,840; DeepSeek-V3: 61 layers, 256 experts, hidden 7,168, vocab 129,280) and far
// below what would hurt the tab. The checkpoint's own tensors are the second check (checkpoint.ts
// compares the implied tensor count with the stored one before iterating the weight table).
//
// Imports nothing but errors.ts: it sits on the config floor beside config.ts, which uses it; checkBound
// is there for any other parser of untrusted numbers (the preprocessor config, the API's options).
import { KimiVLError } from '../errors.ts';

/** Inclusive integer range, or a real range for float fields (`real: true`, min exclusive when `open`). */
export interface Bound {
  min: number;
  max: number;
  /** A float field: min is exclusive (> min) rather than inclusive. */
  real?: boolean;
}

const int = (min: number, max: number): Bound => ({ min, max });
/** A positive real bounded above: (0, max]. */
const pos = (max: number): Bound => ({ min: 0, max, real: true });

/** config.json's vision_config (MoonViT). */
export const VISION_BOUNDS: Readonly<Record<string, Bound>> = {
  patch_size: int(1, 64),
  hidden_size: int(1, 8192),
  num_attention_heads: int(1, 256),
  num_hidden_layers: int(1, 128),
  intermediate_size: int(1, 65_536),
  // The learned position table [H0, W0, D] (64 × 64 in Kimi-VL); patches beyond it are interpolated.
  init_pos_emb_height: int(1, 1024),
  init_pos_emb_width: int(1, 1024),
};

/** config.json's text_config (DeepSeek-V3 block). */
export const TEXT_BOUNDS: Readonly<Record<string, Bound>> = {
  vocab_size: int(1, 1 << 20),
  hidden_size: int(1, 32_768),
  intermediate_size: int(1, 131_072),
  moe_intermediate_size: int(1, 65_536),
  num_hidden_layers: int(1, 256),
  num_attention_heads: int(1, 512),
  q_lora_rank: int(1, 16_384),
  kv_lora_rank: int(1, 16_384),
  qk_nope_head_dim: int(1, 1024),
  qk_rope_head_dim: int(1, 1024),
  v_head_dim: int(1, 1024),
  n_routed_experts: int(1, 1024),
  n_shared_experts: int(1, 64),
  num_experts_per_tok: int(1, 128),
  n_group: int(1, 1024),
  topk_group: int(1, 1024),
  first_k_dense_replace: int(0, 256),
  moe_layer_freq: int(1, 256),
  max_position_embeddings: int(1, 1 << 24),
  routed_scaling_factor: pos(1e4),
  rms_norm_eps: pos(1),
  rope_theta: pos(1e12),
};

/** config.json's text_config.rope_scaling (YaRN). */
export const ROPE_SCALING_BOUNDS: Readonly<Record<string, Bound>> = {
  factor: pos(1024),
  original_max_position_embeddings: int(1, 1 << 24),
  beta_fast: { min: -1e4, max: 1e4, real: true },
  beta_slow: { min: -1e4, max: 1e4, real: true },
  mscale: { min: -1e4, max: 1e4, real: true },
  mscale_all_dim: { min: -1e4, max: 1e4, real: true },
};

/** Bounds per JSON object path ('' top level, 'text_config.', ...), for the config.json parser. */
export const CONFIG_BOUNDS: Readonly<Record<string, Readonly<Record<string, Bound>>>> = {
  'vision_config.': VISION_BOUNDS,
  'text_config.': TEXT_BOUNDS,
  'text_config.rope_scaling.': ROPE_SCALING_BOUNDS,
};

/** Most tensors a checkpoint may hold or a config may imply (DeepSeek-V3 in HF names: about 47,000). */
export const MAX_TENSORS = 200_000;

/** Why `v` is outside `b` (null when inside); the caller names the field. */
export function outOfBound(v: number, b: Bound): string | null {
  if (!b.real && !Number.isSafeInteger(v)) return `must be an integer, got ${v}`;
  if (b.real ? !(v > b.min) : v < b.min) return `must be ${b.real ? '>' : '≥'} ${b.min}, got ${v}`;
  if (v > b.max) return `must be ≤ ${b.max.toLocaleString('en-US')} (kimi-vl-web's bound), got ${v}`;
  return null;
}

/** Throws a ConfigError naming `field` (e.g. "preprocessor_config.json: in_token_limit") when out of bound. */
export function checkBound(field: string, v: unknown, b: Bound): number {
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new KimiVLError('ConfigError', `${field} must be a number, got ${String(v)}`);
  const why = outOfBound(v, b);
  if (why) throw new KimiVLError('ConfigError', `${field} ${why}`);
  return v;
}

/** The numbers of a config that decide how many weight tensors it implies. */
export interface TensorCountInput {
  visionLayers: number;
  textLayers: number;
  /** Layers whose FFN is the routed MoE. */
  moeLayers: number;
  experts: number;
  /** q_lora_rank set: q_a, q_a_norm, q_b instead of one q_proj. */
  qLora: boolean;
}

/**
 * How many tensors the weight table (config/weight_names.ts) holds for these sizes, computed without
 * building it: in Hugging Face names every expert is its own tensor, in engine names they are stacked.
 * Kept in step with weight_names.ts by checkpoint.test.ts (count = weightTable's length).
 */
export function impliedTensorCount(c: TensorCountInput, naming: 'hf' | 'engine'): number {
  const vision = 5 + 12 * c.visionLayers; // patch w/b, pos_emb, final norm w/b; 12 per block
  const projector = 6;
  const lmEnds = 3; // embed, final norm, head
  const attn = 2 + (c.qLora ? 3 : 1) + 4; // two norms, q (or q_a, q_a_norm, q_b), kv_a, kv_a_norm, kv_b, o
  const dense = 3;
  const moe = 2 + 3 * (naming === 'hf' ? c.experts : 1) + 3; // router + bias, experts, shared
  return (
    vision +
    projector +
    lmEnds +
    c.textLayers * attn +
    (c.textLayers - c.moeLayers) * dense +
    c.moeLayers * moe
  );
}
