import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/config.ts';
import { parsePreprocessorConfig } from '../vision/preprocessor_config.ts';
import { WEBGPU_DEFAULT_LIMITS } from './memory_plan.ts';
import { assertFits, defaultContextBudget, ENGINE_SPLITS_TENSORS, fitModel } from './preflight_fit.ts';

const real = parseConfig(
  JSON.parse(
    readFileSync(new URL('../../../shared/spec/Kimi-VL-A3B-Instruct.config.json', import.meta.url), 'utf8'),
  ),
);
const instructPre = parsePreprocessorConfig({ in_token_limit: 4096, pad_input: true });
const thinking2506Pre = parsePreprocessorConfig({ in_token_limit: 16384, pad_input: true });
const big = { maxStorageBufferBindingSize: 2 ** 31, maxBufferSize: 2 ** 31 };

describe('defaultContextBudget', () => {
  it('fits one maximum-size image plus a prompt', () => {
    expect(defaultContextBudget(real, null)).toBe(4096);
    expect(defaultContextBudget(real, instructPre)).toBe(4096);
    expect(defaultContextBudget(real, thinking2506Pre)).toBe(16384);
  });
});

describe('fitModel', () => {
  it('q4 on WebGPU default limits: runs with the 180 MiB embedding and lm_head in parts', () => {
    expect(ENGINE_SPLITS_TENSORS).toBe(true);
    const fit = fitModel({
      config: real,
      preprocessor: instructPre,
      quant: 'q4',
      context: 4096,
      limits: WEBGPU_DEFAULT_LIMITS,
    });
    expect(fit.fits).toBe(true);
    expect(fit.reasons.join(' ')).toMatch(
      /2 buffer\(s\) exceed the 128\.0 MiB buffer limit and are held in parts/,
    );
    expect(fit.needs.maxStorageBufferBindingSize).toBe(128 * 2 ** 20);
  });

  it('a limit below one row of a tensor cannot run: GpuLimitError says what is needed', () => {
    const tiny = { maxStorageBufferBindingSize: 512, maxBufferSize: 1 << 30 };
    const fit = fitModel({
      config: real,
      preprocessor: instructPre,
      quant: 'q4',
      context: 4096,
      limits: tiny,
    });
    expect(fit.fits).toBe(false);
    expect(fit.reasons.join(' ')).toMatch(
      /one slice along its first dimension needs .* cannot be split further/,
    );
    expect(() => assertFits(fit, 'the model')).toThrow(expect.objectContaining({ name: 'GpuLimitError' }));
  });

  it('q4, q8 and bf16 fit a GPU with 2 GiB bindings; a KV cache over the limit is split', () => {
    for (const quant of ['q4', 'q8', 'bf16'] as const) {
      const fit = fitModel({ config: real, preprocessor: instructPre, quant, context: 4096, limits: big });
      expect(fit.fits, quant).toBe(true);
      expect(fit.gpuBytes).toBeGreaterThan(fit.plan.weightBytes);
    }
    // One layer's KV cache over the limit is held in parts by position.
    const small = { maxStorageBufferBindingSize: 16 << 20, maxBufferSize: 1 << 30 };
    const kv = fitModel({ config: real, preprocessor: null, quant: 'q4', context: 8192, limits: small });
    expect(kv.plan.kvLayerBytes).toBeGreaterThan(16 << 20);
    expect(kv.fits).toBe(true);
  });

  it('without an adapter it reports, not judges', () => {
    const fit = fitModel({ config: real, preprocessor: null, quant: 'q4', context: 4096, limits: null });
    expect(fit.fits).toBe(true);
    expect(fit.reasons).toEqual([expect.stringMatching(/no WebGPU adapter/)]);
  });
});
