// config.json (model) and preprocessor_config.json (image processor) → typed, validated configs.
// Anything the engine does not implement is refused here, naming the field, rather than run
// differently later (spec §2: DeepSeek-V3 text config, MoonViT vision config).
import { KimiVLError } from '../errors.ts';
import { type Bound, CONFIG_BOUNDS, impliedTensorCount, MAX_TENSORS, outOfBound } from './bounds.ts';

export interface VisionConfig {
  patchSize: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  /** hiddenSize / numHeads (72 for the real model). */
  headDim: number;
  intermediateSize: number;
  /** Learned position table [posEmbHeight, posEmbWidth, hiddenSize], height first. */
  posEmbHeight: number;
  posEmbWidth: number;
  mergeKernel: [2, 2];
}

/** YaRN rope scaling as DeepSeek-V3 spells it (absent in every released Kimi-VL config). */
export interface RopeScaling {
  type: 'yarn';
  factor: number;
  originalMaxPositionEmbeddings: number;
  betaFast: number;
  betaSlow: number;
  mscale: number;
  mscaleAllDim: number;
}

export interface TextConfig {
  vocabSize: number;
  hiddenSize: number;
  /** Dense SwiGLU width (layers < firstKDenseReplace). */
  intermediateSize: number;
  /** Routed expert SwiGLU width; the shared expert is moeIntermediateSize · nSharedExperts wide. */
  moeIntermediateSize: number;
  numLayers: number;
  numHeads: number;
  qLoraRank: number | null;
  kvLoraRank: number;
  qkNopeHeadDim: number;
  qkRopeHeadDim: number;
  vHeadDim: number;
  nRoutedExperts: number;
  nSharedExperts: number;
  numExpertsPerTok: number;
  nGroup: number;
  topkGroup: number;
  firstKDenseReplace: number;
  moeLayerFreq: number;
  normTopkProb: boolean;
  routedScalingFactor: number;
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling: RopeScaling | null;
  maxPositionEmbeddings: number;
  bosTokenId: number;
  eosTokenId: number;
  padTokenId: number;
}

export interface KimiVLConfig {
  vision: VisionConfig;
  text: TextConfig;
  mediaPlaceholderTokenId: number;
  /** True for layers whose FFN is the routed MoE (DeepSeek-V3: i ≥ first_k_dense_replace, i % freq = 0). */
  isMoeLayer(layer: number): boolean;
  /** MLA softmax scale: (nope + rope)^−0.5, times mscale² of YaRN when rope_scaling is set. */
  softmaxScale: number;
  /** The parsed JSON, kept so a converter can copy it verbatim. */
  raw: Record<string, unknown>;
}

export interface ImageProcessorConfig {
  patchSize: number;
  /** Max 14×14 patches before the image is downscaled. */
  inTokenLimit: number;
  mergeKernelSize: [2, 2];
  padInput: boolean;
  imageMean: [number, number, number];
  imageStd: [number, number, number];
}

type Obj = Record<string, unknown>;

type BoundsByPath = Readonly<Record<string, Readonly<Record<string, Bound>>>>;

/**
 * Reads typed fields of one JSON object; every error names the field's full path. Every number read is
 * also held to its bound in `bounds` (by object path and key, bounds.ts) when it has one.
 */
class Fields {
  constructor(
    private readonly obj: Obj,
    private readonly path: string,
    private readonly file: string,
    private readonly bounds: BoundsByPath = {},
  ) {}

  fail(key: string, what: string): never {
    throw new KimiVLError('ConfigError', `${this.file}: ${this.path}${key} ${what}`);
  }

  has(key: string): boolean {
    return Object.hasOwn(this.obj, key) && this.obj[key] !== undefined;
  }

  raw(key: string): unknown {
    if (!this.has(key)) this.fail(key, 'is missing; this does not look like a Kimi-VL config');
    return this.obj[key];
  }

  num(key: string, opts: { int?: boolean; min?: number; positive?: boolean } = {}): number {
    const v = this.raw(key);
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(key, `must be a number, got ${show(v)}`);
    if (opts.int && !Number.isSafeInteger(v)) this.fail(key, `must be an integer, got ${v}`);
    if (opts.positive && v <= 0) this.fail(key, `must be > 0, got ${v}`);
    if (opts.min !== undefined && v < opts.min) this.fail(key, `must be ≥ ${opts.min}, got ${v}`);
    const bound = this.bounds[this.path]?.[key];
    const why = bound && outOfBound(v, bound);
    if (why) this.fail(key, why);
    return v;
  }

  int(key: string, min = 1): number {
    return this.num(key, { int: true, min });
  }

  bool(key: string): boolean {
    const v = this.raw(key);
    if (typeof v !== 'boolean') this.fail(key, `must be true or false, got ${show(v)}`);
    return v;
  }

  str(key: string): string {
    const v = this.raw(key);
    if (typeof v !== 'string') this.fail(key, `must be a string, got ${show(v)}`);
    return v;
  }

  /** A string field the engine supports only one value of; absent fields fall back to `dflt` when given. */
  only(key: string, supported: string, dflt?: string): void {
    const v = !this.has(key) && dflt !== undefined ? dflt : this.str(key);
    if (v !== supported) this.fail(key, `is "${v}"; kimi-vl-web implements only "${supported}"`);
  }

  obj2(key: string): Fields {
    const v = this.raw(key);
    if (!isObject(v)) this.fail(key, `must be an object, got ${show(v)}`);
    return new Fields(v, `${this.path}${key}.`, this.file, this.bounds);
  }

  numArray(key: string, length: number): number[] {
    const v = this.raw(key);
    if (
      !Array.isArray(v) ||
      v.length !== length ||
      v.some((x) => typeof x !== 'number' || !Number.isFinite(x))
    )
      this.fail(key, `must be an array of ${length} numbers, got ${show(v)}`);
    return v as number[];
  }

  mergeKernel(key: string): [2, 2] {
    const v = this.numArray(key, 2);
    if (v[0] !== 2 || v[1] !== 2)
      this.fail(key, `is [${v}]; kimi-vl-web implements only the 2×2 patch merge`);
    return [2, 2];
  }
}

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function parseVision(f: Fields): VisionConfig {
  if (f.has('model_type')) f.only('model_type', 'moonvit');
  const hiddenSize = f.int('hidden_size');
  const numHeads = f.int('num_attention_heads');
  if (hiddenSize % numHeads !== 0)
    f.fail('hidden_size', `(${hiddenSize}) is not divisible by num_attention_heads`);
  const headDim = hiddenSize / numHeads;
  // 2D RoPE rotates 4 dims per frequency (a column pair and a row pair), spec §7.3.
  if (headDim % 4 !== 0)
    f.fail('num_attention_heads', `gives head_dim ${headDim}, which 2D RoPE needs divisible by 4`);
  return {
    patchSize: f.int('patch_size'),
    hiddenSize,
    numLayers: f.int('num_hidden_layers'),
    numHeads,
    headDim,
    intermediateSize: f.int('intermediate_size'),
    posEmbHeight: f.int('init_pos_emb_height'),
    posEmbWidth: f.int('init_pos_emb_width'),
    mergeKernel: f.mergeKernel('merge_kernel_size'),
  };
}

function parseRopeScaling(t: Fields): RopeScaling | null {
  if (!t.has('rope_scaling') || t.raw('rope_scaling') === null) return null;
  const r = t.obj2('rope_scaling');
  const type = r.has('type') ? r.str('type') : r.str('rope_type');
  if (type !== 'yarn')
    r.fail('type', `is "${type}"; kimi-vl-web implements only null or "yarn" rope scaling`);
  const opt = (key: string, dflt: number) => (r.has(key) ? r.num(key) : dflt);
  return {
    type: 'yarn',
    factor: r.num('factor', { positive: true }),
    originalMaxPositionEmbeddings: r.int('original_max_position_embeddings'),
    // Defaults of DeepseekV3YarnRotaryEmbedding.
    betaFast: opt('beta_fast', 32),
    betaSlow: opt('beta_slow', 1),
    mscale: opt('mscale', 1),
    mscaleAllDim: opt('mscale_all_dim', 0),
  };
}

function parseText(t: Fields): TextConfig {
  // Refuse variants of the DeepSeek-V3 block the engine does not implement.
  t.only('topk_method', 'noaux_tc');
  t.only('scoring_func', 'sigmoid');
  t.only('hidden_act', 'silu');
  if (t.has('attention_bias') && t.bool('attention_bias'))
    t.fail('attention_bias', 'is true; MLA projections without bias only');
  if (t.has('tie_word_embeddings') && t.bool('tie_word_embeddings'))
    t.fail('tie_word_embeddings', 'is true; kimi-vl-web expects a separate lm_head');
  const moeLayerFreq = t.int('moe_layer_freq');
  if (moeLayerFreq !== 1) t.fail('moe_layer_freq', `is ${moeLayerFreq}; kimi-vl-web implements only 1`);
  const qLoraRaw = t.raw('q_lora_rank');
  const qLoraRank = qLoraRaw === null ? null : t.int('q_lora_rank');
  const nRoutedExperts = t.int('n_routed_experts');
  const numExpertsPerTok = t.int('num_experts_per_tok');
  const nGroup = t.int('n_group');
  const topkGroup = t.int('topk_group');
  if (nRoutedExperts % nGroup !== 0)
    t.fail('n_group', `(${nGroup}) must divide n_routed_experts (${nRoutedExperts})`);
  if (topkGroup > nGroup) t.fail('topk_group', `(${topkGroup}) must be ≤ n_group (${nGroup})`);
  if (numExpertsPerTok > (nRoutedExperts / nGroup) * topkGroup)
    t.fail('num_experts_per_tok', `(${numExpertsPerTok}) exceeds the experts left after group selection`);
  // Group scores sum the top-2 experts of each group (noaux_tc), so groups need ≥ 2 experts.
  if (nGroup > 1 && nRoutedExperts / nGroup < 2) t.fail('n_group', 'leaves fewer than 2 experts per group');
  const vocabSize = t.int('vocab_size');
  const tokenId = (key: string) => {
    const id = t.int(key, 0);
    if (id >= vocabSize) t.fail(key, `(${id}) is outside the vocabulary (vocab_size ${vocabSize})`);
    return id;
  };
  return {
    vocabSize,
    hiddenSize: t.int('hidden_size'),
    intermediateSize: t.int('intermediate_size'),
    moeIntermediateSize: t.int('moe_intermediate_size'),
    numLayers: t.int('num_hidden_layers'),
    numHeads: t.int('num_attention_heads'),
    qLoraRank,
    kvLoraRank: t.int('kv_lora_rank'),
    qkNopeHeadDim: t.int('qk_nope_head_dim'),
    qkRopeHeadDim: evenRope(t),
    vHeadDim: t.int('v_head_dim'),
    nRoutedExperts,
    nSharedExperts: t.int('n_shared_experts'),
    numExpertsPerTok,
    nGroup,
    topkGroup,
    firstKDenseReplace: t.int('first_k_dense_replace', 0),
    moeLayerFreq,
    normTopkProb: t.bool('norm_topk_prob'),
    routedScalingFactor: t.num('routed_scaling_factor', { positive: true }),
    rmsNormEps: t.num('rms_norm_eps', { positive: true }),
    ropeTheta: t.num('rope_theta', { positive: true }),
    ropeScaling: parseRopeScaling(t),
    maxPositionEmbeddings: t.int('max_position_embeddings'),
    bosTokenId: tokenId('bos_token_id'),
    eosTokenId: tokenId('eos_token_id'),
    padTokenId: tokenId('pad_token_id'),
  };
}

function evenRope(t: Fields): number {
  const r = t.int('qk_rope_head_dim');
  if (r % 2 !== 0) t.fail('qk_rope_head_dim', `(${r}) must be even: RoPE rotates pairs`);
  return r;
}

/** DeepSeek-V3 `yarn_get_mscale`. */
function yarnMscale(scale: number, mscale: number): number {
  return scale <= 1 ? 1 : 0.1 * mscale * Math.log(scale) + 1;
}

/** How many LM layers are MoE layers (those `isMoeLayer` accepts), without iterating the layers. */
export function moeLayerCount(
  t: Pick<TextConfig, 'numLayers' | 'firstKDenseReplace' | 'moeLayerFreq'>,
): number {
  const first = Math.ceil(Math.min(t.firstKDenseReplace, t.numLayers) / t.moeLayerFreq) * t.moeLayerFreq;
  return first >= t.numLayers ? 0 : Math.floor((t.numLayers - 1 - first) / t.moeLayerFreq) + 1;
}

/** The sizes that decide the weight table's length (bounds.ts impliedTensorCount). */
export function tensorCountInput(v: VisionConfig, t: TextConfig) {
  return {
    visionLayers: v.numLayers,
    textLayers: t.numLayers,
    moeLayers: moeLayerCount(t),
    experts: t.nRoutedExperts,
    qLora: t.qLoraRank !== null,
  };
}

/** Parses a Kimi-VL config.json (model_type "kimi_vl"); throws ConfigError naming the offending field. */
export function parseConfig(json: unknown, fileName = 'config.json'): KimiVLConfig {
  if (!isObject(json))
    throw new KimiVLError('ConfigError', `${fileName} must be a JSON object, got ${show(json)}`);
  const top = new Fields(json, '', fileName, CONFIG_BOUNDS);
  top.only('model_type', 'kimi_vl');
  const vision = parseVision(top.obj2('vision_config'));
  const text = parseText(top.obj2('text_config'));
  const mediaPlaceholderTokenId = top.int('media_placeholder_token_id', 0);
  if (mediaPlaceholderTokenId >= text.vocabSize)
    top.fail('media_placeholder_token_id', `(${mediaPlaceholderTokenId}) is outside the vocabulary`);
  if (text.firstKDenseReplace > text.numLayers)
    top.fail('text_config.first_k_dense_replace', `(${text.firstKDenseReplace}) exceeds num_hidden_layers`);
  const isMoeLayer = (i: number) =>
    i >= text.firstKDenseReplace && i % text.moeLayerFreq === 0 && i < text.numLayers;
  // Each size is bounded; their product (experts are one tensor each in HF names) is bounded too.
  const tensors = impliedTensorCount(tensorCountInput(vision, text), 'hf');
  if (tensors > MAX_TENSORS)
    top.fail(
      'text_config.num_hidden_layers',
      `× n_routed_experts imply ${tensors} tensors; kimi-vl-web's bound is ${MAX_TENSORS}`,
    );
  let softmaxScale = (text.qkNopeHeadDim + text.qkRopeHeadDim) ** -0.5;
  const rs = text.ropeScaling;
  if (rs?.mscaleAllDim) {
    const m = yarnMscale(rs.factor, rs.mscaleAllDim);
    softmaxScale *= m * m;
  }
  return {
    vision,
    text,
    mediaPlaceholderTokenId,
    isMoeLayer,
    softmaxScale,
    raw: json,
  };
}

/** Parses preprocessor_config.json (KimiVLImageProcessor). All fields are required: the class defaults differ. */
export function parsePreprocessorConfig(
  json: unknown,
  fileName = 'preprocessor_config.json',
): ImageProcessorConfig {
  if (!isObject(json))
    throw new KimiVLError('ConfigError', `${fileName} must be a JSON object, got ${show(json)}`);
  const f = new Fields(json, '', fileName);
  if (f.has('image_processor_type')) f.only('image_processor_type', 'KimiVLImageProcessor');
  const triple = (key: string) => f.numArray(key, 3) as [number, number, number];
  const imageStd = triple('image_std');
  if (imageStd.some((s) => s <= 0)) f.fail('image_std', 'must be > 0 in every channel');
  return {
    patchSize: f.int('patch_size'),
    inTokenLimit: f.int('in_token_limit'),
    mergeKernelSize: f.mergeKernel('merge_kernel_size'),
    padInput: f.bool('pad_input'),
    imageMean: triple('image_mean'),
    imageStd,
  };
}
