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
  it.skipIf(ENGINE_SPLITS_TENSORS)(
    'q4 on WebGPU default limits: the 180 MiB embedding cannot be bound',
    () => {
      const fit = fitModel({
        config: real,
        preprocessor: instructPre,
        quant: 'q4',
        context: 4096,
        limits: WEBGPU_DEFAULT_LIMITS,
      });
      expect(fit.fits).toBe(false);
      expect(fit.reasons.join(' ')).toMatch(/exceed the 128\.0 MiB buffer limit/);
      expect(fit.largestBinding.bytes).toBeGreaterThan(128 * 2 ** 20);
      expect(() => assertFits(fit, 'the model')).toThrow(
        expect.objectContaining({
          name: 'GpuLimitError',
          message: expect.stringMatching(/needs a binding of 1\d\d\.\d MiB/),
        }),
      );
    },
  );

  it('q4, q8 and bf16 fit a GPU with 2 GiB bindings; the KV cache is judged too', () => {
    for (const quant of ['q4', 'q8', 'bf16'] as const) {
      const fit = fitModel({ config: real, preprocessor: instructPre, quant, context: 4096, limits: big });
      expect(fit.fits, quant).toBe(true);
      expect(fit.gpuBytes).toBeGreaterThan(fit.plan.weightBytes);
    }
    const tiny = { maxStorageBufferBindingSize: 1 << 20, maxBufferSize: 1 << 30 };
    const kv = fitModel({ config: real, preprocessor: null, quant: 'q4', context: 8192, limits: tiny });
    expect(kv.fits).toBe(false);
    expect(kv.reasons.join(' ')).toMatch(/KV cache/);
  });

  it('without an adapter it reports, not judges', () => {
    const fit = fitModel({ config: real, preprocessor: null, quant: 'q4', context: 4096, limits: null });
    expect(fit.fits).toBe(true);
    expect(fit.reasons).toEqual([expect.stringMatching(/no WebGPU adapter/)]);
  });
});
