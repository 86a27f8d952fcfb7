import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { planImage } from './preprocess.ts';
import { HF_PREPROCESSOR_DEFAULTS, maxImageTokens, parsePreprocessorConfig } from './preprocessor_config.ts';

const tinyA = () =>
  JSON.parse(
    readFileSync(
      new URL('../../../shared/golden/models/tiny-a/preprocessor_config.json', import.meta.url),
      'utf8',
    ),
  ) as Record<string, unknown>;

describe('parsePreprocessorConfig', () => {
  it('parses the golden file as written', () => {
    expect(parsePreprocessorConfig(tinyA())).toEqual({
      patchSize: 14,
      inTokenLimit: 64,
      mergeKernelSize: [2, 2],
      padInput: true,
      imageMean: [0.5, 0.5, 0.5],
      imageStd: [0.5, 0.5, 0.5],
    });
  });

  it("takes HF's class defaults for absent fields (a file without merge_kernel_size loads)", () => {
    const j = tinyA();
    delete j.merge_kernel_size;
    expect(parsePreprocessorConfig(j).mergeKernelSize).toEqual([2, 2]);
    expect(parsePreprocessorConfig({})).toEqual(HF_PREPROCESSOR_DEFAULTS);
    expect(parsePreprocessorConfig({ in_token_limit: null }).inTokenLimit).toBe(4096);
  });

  it('bounds every present field and names it', () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ merge_kernel_size: [1, 1] }, /merge_kernel_size is \[1,1\]/],
      [{ merge_kernel_size: 'x' }, /merge_kernel_size/],
      [{ in_token_limit: 0 }, /in_token_limit must be in 4\.\./],
      [{ in_token_limit: 1e9 }, /in_token_limit must be in/],
      [{ in_token_limit: 4.5 }, /in_token_limit must be an integer/],
      [{ patch_size: -14 }, /patch_size must be in 1\.\.64/],
      [{ pad_input: 'yes' }, /pad_input must be true or false/],
      [{ image_std: [0.5, 0, 0.5] }, /image_std must be > 0/],
      [{ image_mean: [0.5, 0.5] }, /image_mean must be an array of 3 numbers/],
      [{ image_mean: [1e9, 0, 0] }, /image_mean is out of range/],
      [{ image_processor_type: 'CLIPImageProcessor' }, /image_processor_type/],
    ];
    for (const [j, re] of bad) {
      expect(() => parsePreprocessorConfig(j)).toThrow(re);
      try {
        parsePreprocessorConfig(j);
      } catch (e) {
        expect((e as Error).name).toBe('ConfigError');
      }
    }
    expect(() => parsePreprocessorConfig([])).toThrow(/must be a JSON object/);
  });

  it('maxImageTokens bounds what planImage produces', () => {
    for (const L of [64, 4096, 16384]) {
      const cfg = { ...parsePreprocessorConfig({ pad_input: true }), inTokenLimit: L };
      let worst = 0;
      for (const [w, h] of [
        [4000, 3000],
        [1920, 1080],
        [7000, 200],
        [13, 7000],
        [1795, 1795],
        [4032, 3024],
      ] as const) {
        const p = planImage(w, h, cfg);
        worst = Math.max(worst, p.nTokens);
      }
      expect(worst).toBeLessThanOrEqual(maxImageTokens(cfg));
    }
    // Thinking-2506: a 12 MP photo is 4,144 tokens, within the bound.
    const p = planImage(4032, 3024, { ...parsePreprocessorConfig({ pad_input: true }), inTokenLimit: 16384 });
    expect(p.nTokens).toBe(4144);
  });
});
