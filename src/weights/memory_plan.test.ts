import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/config.ts';
import { GOLDEN_MODELS } from '../golden/location.ts';
import { quantLayout } from '../tensor/quant_format.ts';
import { planFitsDevice, planMemory, WEBGPU_DEFAULT_LIMITS } from './memory_plan.ts';
import { loadHostWeights } from './node_source.ts';

const REAL = parseConfig(
  JSON.parse(
    readFileSync(new URL('../../configs/Kimi-VL-A3B-Instruct.config.json', import.meta.url), 'utf8'),
  ),
);
const MiB = 2 ** 20;

describe('planMemory (real Kimi-VL-A3B config)', () => {
  it('counts parameters as spec §10 (≈15.95 B LM, 0.42 B ViT, 0.03 B projector)', () => {
    const p = planMemory(REAL, { quant: 'bf16', context: 4096 });
    // Independent count from spec §10 shapes.
    const attn = 3072 * 2048 + 576 * 2048 + 512 + 4096 * 512 + 2048 * 2048 + 2 * 2048;
    const dense = 3 * 11264 * 2048;
    const moe = 64 * 2048 + 64 + 3 * 64 * 1408 * 2048 + 3 * 2816 * 2048;
    const lm = 2 * 163840 * 2048 + 2048 + 27 * attn + dense + 26 * moe;
    const block =
      2 * 2 * 1152 + 3456 * 1152 + 3456 + 1152 * 1152 + 1152 + 4304 * 1152 + 4304 + 1152 * 4304 + 1152;
    const vit = 1152 * 588 + 1152 + 64 * 64 * 1152 + 27 * block + 2 * 1152;
    const proj = 2 * 1152 + 4608 * 4608 + 4608 + 2048 * 4608 + 2048;
    expect(p.params.language).toBe(lm);
    expect(p.params.vision).toBe(vit);
    expect(p.params.projector).toBe(proj);
    expect(p.params.language / 1e9).toBeCloseTo(15.95, 1);
    expect(p.params.vision / 1e9).toBeCloseTo(0.42, 1);
    expect(p.params.total / 1e9).toBeCloseTo(16.4, 1);
    // bf16: 2 bytes a parameter, the 26 router biases in f32.
    expect(p.weightBytes).toBe(2 * p.params.total + 26 * 64 * 2);
    expect(p.tensors.length).toBe(5679 - 27 - 26 * 64 * 3 + 26 * 3); // inv_freq dropped, experts stacked
  });

  it('gives exact q4 / q8 sizes and the latent KV cache', () => {
    const q4 = planMemory(REAL, { quant: 'q4', context: 8192 });
    const get = (n: string) => q4.tensors.find((t) => t.name === n)!;
    expect(get('lm.embed').bytes).toBe(163840 * 64 * 18); // 64 blocks of 16 quant bytes + 2 scale bytes per row
    expect(get('lm.embed').dtype).toBe('q4');
    expect(get('lm.layers.5.moe.experts_down').bytes).toBe(quantLayout('q4', [64, 2048, 1408]).totalBytes);
    expect(get('lm.layers.5.moe.experts_down').bytes).toBe(64 * 2048 * 44 * 18);
    expect(get('lm.layers.5.moe.router').dtype).toBe('bf16');
    expect(get('lm.layers.5.moe.router_bias').dtype).toBe('f32');
    expect(get('vision.blocks.0.fc0.weight').dtype).toBe('f16');
    expect(q4.kvBytesPerToken).toBe(27 * 576 * 4);
    expect(q4.kvCacheBytes).toBe(27 * 576 * 4 * 8192);
    const layer = q4.components.find((c) => c.component === 'layer 3 experts')!;
    expect(layer.bytes).toBe(3 * 64 * 1408 * 64 * 18);
    expect(q4.largestBinding.name).toBe('lm.embed');
    const q8 = planMemory(REAL, { quant: 'q8', context: 8192 });
    expect(q8.tensors.find((t) => t.name === 'lm.head')!.bytes).toBe(163840 * 64 * 34);
    expect(q8.weightBytes).toBeGreaterThan(q4.weightBytes);
    expect(q8.weightBytes / 1e9).toBeGreaterThan(17.4 * 0.95); // ≈ 8.5 bits per LM weight
    expect(q8.activationBytes).toBeGreaterThan(0);
  });

  it('explains which tensors must be split under the WebGPU default limits', () => {
    const fit = planFitsDevice(planMemory(REAL, { quant: 'q8', context: 4096 }), WEBGPU_DEFAULT_LIMITS);
    expect(fit.limit).toBe(128 * MiB);
    const embed = fit.splits.find((s) => s.name === 'lm.embed')!;
    // q8 embed row: 64 blocks × 32 quant bytes + 64 × 2 scale bytes = 2176 B → 61680 rows per 128 MiB part.
    expect(embed.axis).toBe('rows');
    expect(embed.perPart).toBe(61680);
    expect(embed.parts).toBe(3);
    const experts = fit.splits.find((s) => s.name === 'lm.layers.1.moe.experts_up')!;
    expect(experts.axis).toBe('experts');
    expect(experts.perPart).toBe(Math.floor((128 * MiB) / (1408 * 64 * 34)));
    expect(fit.fits).toBe(true);
    const bigCtx = planFitsDevice(planMemory(REAL, { quant: 'q4', context: 131072 }), WEBGPU_DEFAULT_LIMITS);
    expect(bigCtx.fits).toBe(false);
    expect(bigCtx.explanation.join('\n')).toMatch(/KV cache .* lower the context to ≤ 58254/);
    const roomy = planFitsDevice(planMemory(REAL, { quant: 'q4', context: 4096 }), {
      maxBufferSize: 2 ** 31,
      maxStorageBufferBindingSize: 2 ** 31,
    });
    expect(roomy.splits).toEqual([]);
  });
});

describe('planMemory agrees with the assembled tiny weights', () => {
  it.each(['q8', 'q4'] as const)('%s byte sizes equal the HostWeight sizes of tiny-b', async (q) => {
    const dir = `${GOLDEN_MODELS}/tiny-b`;
    const cfg = parseConfig(JSON.parse(readFileSync(`${dir}/config.json`, 'utf8')));
    const plan = planMemory(cfg, { quant: q, context: 64 });
    const w = await loadHostWeights(dir, q, { f16: 'vision' });
    for (const t of plan.tensors) {
      const hw = w.get(t.name)!;
      expect(t.dtype, t.name).toBe(hw.dtype);
      expect(t.bytes, t.name).toBe(Math.ceil(hw.bytes.byteLength / 4) * 4);
    }
  });
});
