// The one table of Kimi-VL weights: engine name, engine shape (from config.json), and the Hugging
// Face tensor(s) it comes from. Nothing else in the engine spells a Hugging Face name or an engine
// name (spec §10). It sits on the config floor because it is a function of the config alone: the
// loaders (src/weights/) read it to convert and check checkpoints, the model (src/model/) reads it to
// know its weight slots, and neither has to import the other.
//
// The table is built as trees of slots (vision, projector, language) whose keys are the model's field
// names, so `mapSlots(languageSlots(cfg), upload)` is the model's weights object. `weightTable`
// flattens the trees in key order, which is the load order (vision, projector, embed, layers, final
// norm, head).
//
// Engine conventions: Linear weights stay [out, in]; the patch-embedding conv [D, 3, p, p] is viewed
// as [D, 3·p·p] ((c, y, x) order); experts are stacked per layer and projection into [E, out, in]
// (HF experts 0..E−1 in order), so one dispatch serves every selected expert.
import type { KimiVLConfig, TextConfig, VisionConfig } from './config.ts';

/** Which part of the model a weight belongs to (for the memory plan and dtype policy). */
export type WeightPart =
  | 'vision'
  | 'projector'
  | 'embed'
  | 'head'
  | 'final_norm'
  | 'norm'
  | 'attn'
  | 'dense'
  | 'router'
  | 'experts'
  | 'shared';

export interface WeightSpec {
  /** Engine name, e.g. `lm.layers.3.moe.experts_up`. */
  name: string;
  /** Engine (logical) shape. */
  shape: number[];
  /** Source tensors in the HF checkpoint: one, or E experts stacked in order. */
  hf: string[];
  /** Shape each HF source tensor must have. */
  hfShape: number[];
  part: WeightPart;
  /** LM layer index (absent for vision, projector, embed, head, final norm). */
  layer?: number;
  /** Whether q8/q4 quantisation applies (LM linears and the embedding; never norms, router, vision). */
  quantizable: boolean;
}

// Slot trees. Legend: D width, P = 3·p·p, I MLP width, Q q_lora_rank, R kv_lora_rank, E experts.
export interface VisionBlockSlots<T> {
  norm0W: T; // [D]
  norm0B: T;
  norm1W: T;
  norm1B: T;
  qkvW: T; // [3D, D]
  qkvB: T;
  outW: T; // [D, D]
  outB: T;
  fc0W: T; // [I, D]
  fc0B: T;
  fc1W: T; // [D, I]
  fc1B: T;
}

export interface VisionSlots<T> {
  patchW: T; // [D, P]
  patchB: T;
  posEmb: T; // [H0, W0, D]
  blocks: VisionBlockSlots<T>[];
  finalNormW: T;
  finalNormB: T;
}

export interface ProjectorSlots<T> {
  preNormW: T; // [Dv]
  preNormB: T;
  linear1W: T; // [4Dv, 4Dv]
  linear1B: T;
  linear2W: T; // [D, 4Dv]
  linear2B: T;
}

export interface MlaSlots<T> {
  /** q_proj [H·(N+P), D] when q_lora_rank is null, else q_a [Q, D] → q_a_norm [Q] → q_b [H·(N+P), Q]. */
  q?: T;
  qA?: T;
  qANorm?: T;
  qB?: T;
  /** kv_a_proj_with_mqa [R+P, D]. */
  kvA: T;
  kvANorm: T;
  /** kv_b_proj [H·(N+Vd), R]: per head N k_nope rows then Vd v rows. */
  kvB: T;
  /** o_proj [D, H·Vd]. */
  o: T;
}

export interface SwiGluSlots<T> {
  /** gate, up [I, D]; down [D, I]. */
  gate: T;
  up: T;
  down: T;
}

export interface MoeSlots<T> {
  /** router [E, D], routerBias [E] (e_score_correction_bias: selection only). */
  router: T;
  routerBias: T;
  /** Stacked experts: gate, up [E, I, D]; down [E, D, I]. */
  expertsGate: T;
  expertsUp: T;
  expertsDown: T;
  shared: SwiGluSlots<T>;
}

export interface LayerSlots<T> {
  attnNorm: T;
  ffnNorm: T;
  attn: MlaSlots<T>;
  /** Exactly one of mlp (dense) / moe is set. */
  mlp?: SwiGluSlots<T>;
  moe?: MoeSlots<T>;
}

export interface LanguageSlots<T> {
  embed: T; // [V, D]
  layers: LayerSlots<T>[];
  norm: T; // [D]
  head: T; // [V, D]
}

const LM = 'language_model.model.';
const VT = 'vision_tower.';
const PROJ = 'multi_modal_projector.';

/** HF tensors present in real checkpoints that are never loaded (HF non-persistent RoPE buffers). */
export function isIgnoredHfTensor(name: string): boolean {
  return name.endsWith('.self_attn.rotary_emb.inv_freq');
}

function spec(name: string, hf: string, shape: number[], part: WeightPart, hfShape = shape): WeightSpec {
  return { name, shape, hf: [hf], hfShape, part, quantizable: false };
}

export function visionSlots(v: VisionConfig): VisionSlots<WeightSpec> {
  const D = v.hiddenSize;
  const I = v.intermediateSize;
  const p = v.patchSize;
  const vis = (name: string, hf: string, shape: number[], hfShape = shape) =>
    spec(`vision.${name}`, VT + hf, shape, 'vision', hfShape);
  const blocks = Array.from({ length: v.numLayers }, (_, i): VisionBlockSlots<WeightSpec> => {
    const [e, h] = [`blocks.${i}.`, `encoder.blocks.${i}.`];
    const pair = (n: string, hfN: string, w: number[], b: number[]) =>
      [vis(`${e}${n}.weight`, `${h}${hfN}.weight`, w), vis(`${e}${n}.bias`, `${h}${hfN}.bias`, b)] as const;
    const [norm0W, norm0B] = pair('norm0', 'norm0', [D], [D]);
    const [norm1W, norm1B] = pair('norm1', 'norm1', [D], [D]);
    const [qkvW, qkvB] = pair('qkv', 'wqkv', [3 * D, D], [3 * D]);
    const [outW, outB] = pair('out', 'wo', [D, D], [D]);
    const [fc0W, fc0B] = pair('fc0', 'mlp.fc0', [I, D], [I]);
    const [fc1W, fc1B] = pair('fc1', 'mlp.fc1', [D, I], [D]);
    return { norm0W, norm0B, norm1W, norm1B, qkvW, qkvB, outW, outB, fc0W, fc0B, fc1W, fc1B };
  });
  return {
    patchW: vis('patch_embed.weight', 'patch_embed.proj.weight', [D, 3 * p * p], [D, 3, p, p]),
    patchB: vis('patch_embed.bias', 'patch_embed.proj.bias', [D]),
    posEmb: vis('pos_emb', 'patch_embed.pos_emb.weight', [v.posEmbHeight, v.posEmbWidth, D]),
    blocks,
    finalNormW: vis('final_norm.weight', 'encoder.final_layernorm.weight', [D]),
    finalNormB: vis('final_norm.bias', 'encoder.final_layernorm.bias', [D]),
  };
}

export function projectorSlots(c: {
  vision: VisionConfig;
  text: Pick<TextConfig, 'hiddenSize'>;
}): ProjectorSlots<WeightSpec> {
  const Dv = c.vision.hiddenSize;
  const merged = Dv * c.vision.mergeKernel[0] * c.vision.mergeKernel[1];
  const D = c.text.hiddenSize;
  const proj = (name: string, hf: string, shape: number[]) =>
    spec(`projector.${name}`, PROJ + hf, shape, 'projector');
  return {
    preNormW: proj('pre_norm.weight', 'pre_norm.weight', [Dv]),
    preNormB: proj('pre_norm.bias', 'pre_norm.bias', [Dv]),
    linear1W: proj('linear1.weight', 'linear_1.weight', [merged, merged]),
    linear1B: proj('linear1.bias', 'linear_1.bias', [merged]),
    linear2W: proj('linear2.weight', 'linear_2.weight', [D, merged]),
    linear2B: proj('linear2.bias', 'linear_2.bias', [D]),
  };
}

function layerSlots(c: KimiVLConfig, i: number): LayerSlots<WeightSpec> {
  const t = c.text;
  const D = t.hiddenSize;
  const H = t.numHeads;
  const [e, h, a] = [`lm.layers.${i}.`, `${LM}layers.${i}.`, 'self_attn.'];
  const add = (name: string, hf: string, shape: number[], part: WeightPart, quantizable: boolean) => ({
    name: e + name,
    shape,
    hf: [h + hf],
    hfShape: shape,
    part,
    layer: i,
    quantizable,
  });
  const lin = (name: string, hf: string, shape: number[], part: WeightPart) =>
    add(name, hf, shape, part, true);
  const norm = (name: string, hf: string, width: number) => add(name, hf, [width], 'norm', false);
  const qDim = H * (t.qkNopeHeadDim + t.qkRopeHeadDim);
  const q: Pick<MlaSlots<WeightSpec>, 'q' | 'qA' | 'qANorm' | 'qB'> = t.qLoraRank === null
    ? { q: lin('attn.q', `${a}q_proj.weight`, [qDim, D], 'attn') }
    : {
        qA: lin('attn.q_a', `${a}q_a_proj.weight`, [t.qLoraRank, D], 'attn'),
        qANorm: norm('attn.q_a_norm', `${a}q_a_layernorm.weight`, t.qLoraRank),
        qB: lin('attn.q_b', `${a}q_b_proj.weight`, [qDim, t.qLoraRank], 'attn'),
      };
  const layer: LayerSlots<WeightSpec> = {
    attnNorm: norm('attn_norm', 'input_layernorm.weight', D),
    ffnNorm: norm('ffn_norm', 'post_attention_layernorm.weight', D),
    attn: {
      ...q,
      kvA: lin('attn.kv_a', `${a}kv_a_proj_with_mqa.weight`, [t.kvLoraRank + t.qkRopeHeadDim, D], 'attn'),
      kvANorm: norm('attn.kv_a_norm', `${a}kv_a_layernorm.weight`, t.kvLoraRank),
      kvB: lin(
        'attn.kv_b',
        `${a}kv_b_proj.weight`,
        [H * (t.qkNopeHeadDim + t.vHeadDim), t.kvLoraRank],
        'attn',
      ),
      o: lin('attn.o', `${a}o_proj.weight`, [D, H * t.vHeadDim], 'attn'),
    },
  };
  const swiGlu = (n: string, hf: string, I: number, part: WeightPart): SwiGluSlots<WeightSpec> => ({
    gate: lin(`${n}gate`, `${hf}gate_proj.weight`, [I, D], part),
    up: lin(`${n}up`, `${hf}up_proj.weight`, [I, D], part),
    down: lin(`${n}down`, `${hf}down_proj.weight`, [D, I], part),
  });
  if (!c.isMoeLayer(i)) {
    layer.mlp = swiGlu('mlp.', 'mlp.', t.intermediateSize, 'dense');
    return layer;
  }
  const E = t.nRoutedExperts;
  const I = t.moeIntermediateSize;
  const stack = (name: string, proj: string, perExpert: number[]): WeightSpec => ({
    name: `${e}moe.${name}`,
    shape: [E, ...perExpert],
    hf: Array.from({ length: E }, (_, x) => `${h}mlp.experts.${x}.${proj}.weight`),
    hfShape: perExpert,
    part: 'experts',
    layer: i,
    quantizable: true,
  });
  layer.moe = {
    router: add('moe.router', 'mlp.gate.weight', [E, D], 'router', false),
    routerBias: add('moe.router_bias', 'mlp.gate.e_score_correction_bias', [E], 'router', false),
    expertsGate: stack('experts_gate', 'gate_proj', [I, D]),
    expertsUp: stack('experts_up', 'up_proj', [I, D]),
    expertsDown: stack('experts_down', 'down_proj', [D, I]),
    shared: swiGlu('moe.shared_', 'mlp.shared_experts.', I * t.nSharedExperts, 'shared'),
  };
  return layer;
}

export function languageSlots(c: KimiVLConfig): LanguageSlots<WeightSpec> {
  const { vocabSize: V, hiddenSize: D, numLayers } = c.text;
  const lm = (name: string, hf: string, shape: number[], part: WeightPart, quantizable: boolean) => ({
    ...spec(name, hf, shape, part),
    quantizable,
  });
  return {
    embed: lm('lm.embed', `${LM}embed_tokens.weight`, [V, D], 'embed', true),
    layers: Array.from({ length: numLayers }, (_, i) => layerSlots(c, i)),
    norm: lm('lm.norm', `${LM}norm.weight`, [D], 'final_norm', false),
    head: lm('lm.head', 'language_model.lm_head.weight', [V, D], 'head', true),
  };
}

/** A slot tree with every WeightSpec replaced by a B (e.g. an uploaded tensor). */
export type SlotsOf<S, B> = S extends WeightSpec
  ? B
  : S extends readonly (infer E)[]
    ? SlotsOf<E, B>[]
    : { [K in keyof S]: SlotsOf<S[K], B> };

function isSpec(v: unknown): v is WeightSpec {
  return typeof v === 'object' && v !== null && 'name' in v && 'hf' in v;
}

/** Maps every slot of a tree through `f`, in load order (keys in order, arrays in index order). */
export function mapSlots<S, B>(tree: S, f: (s: WeightSpec) => B): SlotsOf<S, B> {
  const walk = (v: unknown): unknown => {
    if (isSpec(v)) return f(v);
    if (Array.isArray(v)) return v.map(walk);
    if (typeof v !== 'object' || v === null) return v;
    return Object.fromEntries(Object.entries(v).map(([key, child]) => [key, walk(child)]));
  };
  return walk(tree) as SlotsOf<S, B>;
}

/** Every weight of the model, in load order (vision, projector, embed, layers, final norm, head). */
export function weightTable(c: KimiVLConfig): WeightSpec[] {
  const out: WeightSpec[] = [];
  for (const tree of [visionSlots(c.vision), projectorSlots(c), languageSlots(c)])
    mapSlots(tree, (s) => out.push(s));
  return out;
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
