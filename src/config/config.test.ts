import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GOLDEN_MODELS } from '../golden/location.ts';
import { parseConfig, parsePreprocessorConfig } from './config.ts';

const GOLDEN = GOLDEN_MODELS;
const readJson = (p: string) => JSON.parse(readFileSync(p, 'utf8'));
const REAL = new URL('../../configs/Kimi-VL-A3B-Instruct.config.json', import.meta.url);

describe('parseConfig', () => {
  it('parses the real Kimi-VL-A3B-Instruct config', () => {
    const c = parseConfig(readJson(REAL.pathname));
    expect(c.vision).toEqual({
      patchSize: 14,
      hiddenSize: 1152,
      numLayers: 27,
      numHeads: 16,
      headDim: 72,
      intermediateSize: 4304,
      posEmbHeight: 64,
      posEmbWidth: 64,
      mergeKernel: [2, 2],
    });
    expect(c.text).toMatchObject({
      vocabSize: 163840,
      hiddenSize: 2048,
      intermediateSize: 11264,
      moeIntermediateSize: 1408,
      numLayers: 27,
      numHeads: 16,
      qLoraRank: null,
      kvLoraRank: 512,
      qkNopeHeadDim: 128,
      qkRopeHeadDim: 64,
      vHeadDim: 128,
      nRoutedExperts: 64,
      nSharedExperts: 2,
      numExpertsPerTok: 6,
      nGroup: 1,
      topkGroup: 1,
      firstKDenseReplace: 1,
      normTopkProb: true,
      routedScalingFactor: 2.446,
      rmsNormEps: 1e-5,
      ropeTheta: 800000,
      ropeScaling: null,
      bosTokenId: 163584,
      eosTokenId: 163585,
      padTokenId: 163839,
    });
    expect(c.mediaPlaceholderTokenId).toBe(163605);
    // spec §9.2: 192^-0.5
    expect(c.softmaxScale).toBeCloseTo(0.07216878, 8);
    expect(c.isMoeLayer(0)).toBe(false);
    expect(c.isMoeLayer(1)).toBe(true);
    expect(c.isMoeLayer(26)).toBe(true);
  });

  it('parses both tiny golden configs', () => {
    const a = parseConfig(readJson(`${GOLDEN}/tiny-a/config.json`));
    expect(a.text.qLoraRank).toBeNull();
    expect(a.text.nGroup).toBe(1);
    expect(a.mediaPlaceholderTokenId).toBe(501);
    expect(a.softmaxScale).toBeCloseTo(24 ** -0.5, 12);
    const b = parseConfig(readJson(`${GOLDEN}/tiny-b/config.json`));
    expect(b.text.qLoraRank).toBe(40);
    expect(b.text.nGroup).toBe(2);
    expect(b.vision.posEmbHeight).toBe(6);
    expect(b.vision.posEmbWidth).toBe(10);
    expect([0, 1, 2, 3].map((i) => b.isMoeLayer(i))).toEqual([false, false, true, true]);
  });

  it('applies the YaRN mscale² to the softmax scale (DeepSeek-V3 yarn_get_mscale)', () => {
    const j = readJson(REAL.pathname);
    j.text_config.rope_scaling = {
      type: 'yarn',
      factor: 40,
      original_max_position_embeddings: 4096,
      mscale_all_dim: 1,
    };
    const c = parseConfig(j);
    const m = 0.1 * Math.log(40) + 1;
    expect(c.softmaxScale).toBeCloseTo(192 ** -0.5 * m * m, 12);
    expect(c.text.ropeScaling).toMatchObject({
      factor: 40,
      betaFast: 32,
      betaSlow: 1,
      mscale: 1,
      mscaleAllDim: 1,
    });
  });

  const bad: [string, (j: Record<string, any>) => void, RegExp][] = [
    [
      'topk_method greedy',
      (j) => (j.text_config.topk_method = 'greedy'),
      /text_config\.topk_method is "greedy"/,
    ],
    ['scoring_func softmax', (j) => (j.text_config.scoring_func = 'softmax'), /text_config\.scoring_func/],
    ['hidden_act gelu', (j) => (j.text_config.hidden_act = 'gelu'), /text_config\.hidden_act/],
    ['moe_layer_freq 2', (j) => (j.text_config.moe_layer_freq = 2), /text_config\.moe_layer_freq/],
    [
      'missing kv_lora_rank',
      (j) => delete j.text_config.kv_lora_rank,
      /text_config\.kv_lora_rank is missing/,
    ],
    [
      'string hidden_size',
      (j) => (j.text_config.hidden_size = '2048'),
      /text_config\.hidden_size must be a number/,
    ],
    [
      'fractional layers',
      (j) => (j.vision_config.num_hidden_layers = 2.5),
      /vision_config\.num_hidden_layers must be an integer/,
    ],
    ['merge 3x3', (j) => (j.vision_config.merge_kernel_size = [3, 3]), /vision_config\.merge_kernel_size/],
    ['wrong model_type', (j) => (j.model_type = 'llava'), /model_type is "llava"/],
    ['no vision_config', (j) => delete j.vision_config, /vision_config is missing/],
    [
      'rope_scaling linear',
      (j) => (j.text_config.rope_scaling = { type: 'linear', factor: 2 }),
      /rope_scaling\.type/,
    ],
    ['eos outside vocab', (j) => (j.text_config.eos_token_id = 999999), /eos_token_id/],
    ['tied embeddings', (j) => (j.text_config.tie_word_embeddings = true), /tie_word_embeddings/],
    ['n_group not dividing', (j) => (j.text_config.n_group = 5), /n_group/],
    [
      'bool as string',
      (j) => (j.text_config.norm_topk_prob = 'true'),
      /norm_topk_prob must be true or false/,
    ],
  ];
  for (const [what, mutate, msg] of bad) {
    it(`refuses ${what} with ConfigError naming the field`, () => {
      const j = readJson(REAL.pathname);
      mutate(j);
      let err: unknown;
      try {
        parseConfig(j);
      } catch (e) {
        err = e;
      }
      expect((err as Error)?.name).toBe('ConfigError');
      expect((err as Error).message).toMatch(msg);
    });
  }

  it('refuses non-objects', () => {
    expect(() => parseConfig([])).toThrow(/must be a JSON object/);
    expect(() => parseConfig(null)).toThrow(/must be a JSON object/);
  });
});

describe('parsePreprocessorConfig', () => {
  it('parses the golden preprocessor config', () => {
    const p = parsePreprocessorConfig(readJson(`${GOLDEN}/tiny-a/preprocessor_config.json`));
    expect(p).toEqual({
      patchSize: 14,
      inTokenLimit: 64,
      mergeKernelSize: [2, 2],
      padInput: true,
      imageMean: [0.5, 0.5, 0.5],
      imageStd: [0.5, 0.5, 0.5],
    });
  });
  it('refuses a missing pad_input and a bad image_std', () => {
    const j = readJson(`${GOLDEN}/tiny-a/preprocessor_config.json`);
    delete j.pad_input;
    expect(() => parsePreprocessorConfig(j)).toThrow(/pad_input is missing/);
    const k = readJson(`${GOLDEN}/tiny-a/preprocessor_config.json`);
    k.image_std = [0.5, 0];
    expect(() => parsePreprocessorConfig(k)).toThrow(/image_std must be an array of 3 numbers/);
  });
});
