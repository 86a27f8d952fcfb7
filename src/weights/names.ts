// The one table of Kimi-VL weights: engine name, engine shape (from config.json), and the Hugging
// Face tensor(s) it comes from. Nothing else in the engine spells a Hugging Face name (spec §10).
//
// Engine conventions: Linear weights stay [out, in]; the patch-embedding conv [D, 3, p, p] is viewed
// as [D, 3·p·p] ((c, y, x) order); experts are stacked per layer and projection into [E, out, in]
// (HF experts 0..E−1 in order), so one dispatch serves every selected expert.
import type { KimiVLConfig } from '../config/config.ts';

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

const LM = 'language_model.model.';
const VT = 'vision_tower.';
const PROJ = 'multi_modal_projector.';

/** HF tensors present in real checkpoints that are never loaded (HF non-persistent RoPE buffers). */
export function isIgnoredHfTensor(name: string): boolean {
  return name.endsWith('.self_attn.rotary_emb.inv_freq');
}

function visionSpecs(c: KimiVLConfig): WeightSpec[] {
  const v = c.vision;
  const D = v.hiddenSize;
  const out: WeightSpec[] = [];
  const add = (name: string, hf: string, shape: number[], hfShape = shape) =>
    out.push({ name, shape, hf: [hf], hfShape, part: 'vision', quantizable: false });
  const pp = 3 * v.patchSize * v.patchSize;
  add('vision.patch_embed.weight', `${VT}patch_embed.proj.weight`, [D, pp], [D, 3, v.patchSize, v.patchSize]);
  add('vision.patch_embed.bias', `${VT}patch_embed.proj.bias`, [D]);
  add('vision.pos_emb', `${VT}patch_embed.pos_emb.weight`, [v.posEmbHeight, v.posEmbWidth, D]);
  for (let i = 0; i < v.numLayers; i++) {
    const e = `vision.blocks.${i}.`;
    const h = `${VT}encoder.blocks.${i}.`;
    for (const n of ['norm0', 'norm1']) {
      add(`${e}${n}.weight`, `${h}${n}.weight`, [D]);
      add(`${e}${n}.bias`, `${h}${n}.bias`, [D]);
    }
    add(`${e}qkv.weight`, `${h}wqkv.weight`, [3 * D, D]);
    add(`${e}qkv.bias`, `${h}wqkv.bias`, [3 * D]);
    add(`${e}out.weight`, `${h}wo.weight`, [D, D]);
    add(`${e}out.bias`, `${h}wo.bias`, [D]);
    add(`${e}fc0.weight`, `${h}mlp.fc0.weight`, [v.intermediateSize, D]);
    add(`${e}fc0.bias`, `${h}mlp.fc0.bias`, [v.intermediateSize]);
    add(`${e}fc1.weight`, `${h}mlp.fc1.weight`, [D, v.intermediateSize]);
    add(`${e}fc1.bias`, `${h}mlp.fc1.bias`, [D]);
  }
  add('vision.final_norm.weight', `${VT}encoder.final_layernorm.weight`, [D]);
  add('vision.final_norm.bias', `${VT}encoder.final_layernorm.bias`, [D]);
  return out;
}

function projectorSpecs(c: KimiVLConfig): WeightSpec[] {
  const Dv = c.vision.hiddenSize;
  const merged = Dv * c.vision.mergeKernel[0] * c.vision.mergeKernel[1];
  const D = c.text.hiddenSize;
  const out: WeightSpec[] = [];
  const add = (name: string, hf: string, shape: number[]) =>
    out.push({ name, shape, hf: [`${PROJ}${hf}`], hfShape: shape, part: 'projector', quantizable: false });
  add('projector.pre_norm.weight', 'pre_norm.weight', [Dv]);
  add('projector.pre_norm.bias', 'pre_norm.bias', [Dv]);
  add('projector.linear1.weight', 'linear_1.weight', [merged, merged]);
  add('projector.linear1.bias', 'linear_1.bias', [merged]);
  add('projector.linear2.weight', 'linear_2.weight', [D, merged]);
  add('projector.linear2.bias', 'linear_2.bias', [D]);
  return out;
}

function layerSpecs(c: KimiVLConfig, i: number): WeightSpec[] {
  const t = c.text;
  const D = t.hiddenSize;
  const H = t.numHeads;
  const out: WeightSpec[] = [];
  const e = `lm.layers.${i}.`;
  const h = `${LM}layers.${i}.`;
  const add = (name: string, hf: string, shape: number[], part: WeightPart, quantizable: boolean) =>
    out.push({ name: e + name, shape, hf: [h + hf], hfShape: shape, part, layer: i, quantizable });
  add('attn_norm', 'input_layernorm.weight', [D], 'norm', false);
  add('ffn_norm', 'post_attention_layernorm.weight', [D], 'norm', false);
  const qDim = H * (t.qkNopeHeadDim + t.qkRopeHeadDim);
  const a = 'self_attn.';
  if (t.qLoraRank === null) add('attn.q', `${a}q_proj.weight`, [qDim, D], 'attn', true);
  else {
    add('attn.q_a', `${a}q_a_proj.weight`, [t.qLoraRank, D], 'attn', true);
    add('attn.q_a_norm', `${a}q_a_layernorm.weight`, [t.qLoraRank], 'norm', false);
    add('attn.q_b', `${a}q_b_proj.weight`, [qDim, t.qLoraRank], 'attn', true);
  }
  add('attn.kv_a', `${a}kv_a_proj_with_mqa.weight`, [t.kvLoraRank + t.qkRopeHeadDim, D], 'attn', true);
  add('attn.kv_a_norm', `${a}kv_a_layernorm.weight`, [t.kvLoraRank], 'norm', false);
  add('attn.kv_b', `${a}kv_b_proj.weight`, [H * (t.qkNopeHeadDim + t.vHeadDim), t.kvLoraRank], 'attn', true);
  add('attn.o', `${a}o_proj.weight`, [D, H * t.vHeadDim], 'attn', true);
  if (!c.isMoeLayer(i)) {
    const I = t.intermediateSize;
    add('mlp.gate', 'mlp.gate_proj.weight', [I, D], 'dense', true);
    add('mlp.up', 'mlp.up_proj.weight', [I, D], 'dense', true);
    add('mlp.down', 'mlp.down_proj.weight', [D, I], 'dense', true);
    return out;
  }
  const E = t.nRoutedExperts;
  const I = t.moeIntermediateSize;
  const S = I * t.nSharedExperts;
  add('moe.router', 'mlp.gate.weight', [E, D], 'router', false);
  add('moe.router_bias', 'mlp.gate.e_score_correction_bias', [E], 'router', false);
  const experts = (proj: string) =>
    Array.from({ length: E }, (_, x) => `${h}mlp.experts.${x}.${proj}.weight`);
  const stack = (name: string, proj: string, perExpert: number[]) =>
    out.push({
      name: `${e}moe.${name}`,
      shape: [E, ...perExpert],
      hf: experts(proj),
      hfShape: perExpert,
      part: 'experts',
      layer: i,
      quantizable: true,
    });
  stack('experts_gate', 'gate_proj', [I, D]);
  stack('experts_up', 'up_proj', [I, D]);
  stack('experts_down', 'down_proj', [D, I]);
  add('moe.shared_gate', 'mlp.shared_experts.gate_proj.weight', [S, D], 'shared', true);
  add('moe.shared_up', 'mlp.shared_experts.up_proj.weight', [S, D], 'shared', true);
  add('moe.shared_down', 'mlp.shared_experts.down_proj.weight', [D, S], 'shared', true);
  return out;
}

/** Every weight of the model, in load order (vision, projector, embed, layers, final norm, head). */
export function weightTable(c: KimiVLConfig): WeightSpec[] {
  const t = c.text;
  const V = t.vocabSize;
  const D = t.hiddenSize;
  const specs = [...visionSpecs(c), ...projectorSpecs(c)];
  specs.push({
    name: 'lm.embed',
    shape: [V, D],
    hf: [`${LM}embed_tokens.weight`],
    hfShape: [V, D],
    part: 'embed',
    quantizable: true,
  });
  for (let i = 0; i < t.numLayers; i++) specs.push(...layerSpecs(c, i));
  specs.push({
    name: 'lm.norm',
    shape: [D],
    hf: [`${LM}norm.weight`],
    hfShape: [D],
    part: 'final_norm',
    quantizable: false,
  });
  specs.push({
    name: 'lm.head',
    shape: [V, D],
    hf: ['language_model.lm_head.weight'],
    hfShape: [V, D],
    part: 'head',
    quantizable: true,
  });
  return specs;
}

export function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
