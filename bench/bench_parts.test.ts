// Byte accounting (against the memory plan's tensor table), synthetic weights, timing and the report.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { parseConfig } from '../src/config/config.ts';
import { bf16BitsToF32, f16BitsToF32 } from '../src/tensor/half.ts';
import { dequantize } from '../src/tensor/quant_format.ts';
import { planMemory } from '../src/weights/memory_plan.ts';
import { activeWeightBytes, attendKvBytes, minKvBytes, rowBytes } from './active_bytes.ts';
import { renderMarkdown, renderSvg } from './report.ts';
import { syntheticWeight, weightBytes } from './synthetic.ts';
import { median, timeRuns } from './timing.ts';
import type { BenchResult } from './types.ts';

const fullConfig = () =>
  parseConfig(
    JSON.parse(readFileSync(new URL('../configs/Kimi-VL-A3B-Instruct.config.json', import.meta.url), 'utf8')),
  );

describe('active bytes per decoded token', () => {
  for (const quant of ['q4', 'q8', 'bf16'] as const) {
    test(`Kimi-VL-A3B ${quant}: equals the memory plan's language tensors with experts at 6/64 and one embedding row`, () => {
      const cfg = fullConfig();
      const plan = planMemory(cfg, { quant, context: 1 });
      const t = cfg.text;
      let want = 0;
      for (const x of plan.tensors) {
        if (!x.name.startsWith('lm.')) continue;
        if (x.shape.length === 1)
          want += x.params * 4; // widened to f32 on the GPU
        else if (x.name === 'lm.embed') want += x.bytes / t.vocabSize;
        else if (x.name.includes('.experts_')) want += (x.bytes * t.numExpertsPerTok) / t.nRoutedExperts;
        else want += x.bytes;
      }
      const dtypes = new Map(plan.tensors.map((x) => [x.name, x.dtype]));
      const got = activeWeightBytes(cfg, (n) => dtypes.get(n)!);
      expect(Math.abs(got - want) / want).toBeLessThan(1e-6);
      // sanity: about 3B active parameters (Kimi-VL-A3B), so 1.5–2 GB at q4
      if (quant === 'q4') expect(got / 1e9).toBeGreaterThan(1.4);
      if (quant === 'q4') expect(got / 1e9).toBeLessThan(2.2);
    });
  }

  test('latent cache: layers × rows × (R + P) × 4, the attend kernel reads it once per head', () => {
    const cfg = fullConfig();
    expect(minKvBytes(cfg, 1023)).toBe(27 * 1024 * 576 * 4);
    expect(attendKvBytes(cfg, 1023)).toBe(16 * 27 * 1024 * 576 * 4);
  });

  test('row bytes per storage form', () => {
    expect(rowBytes('q4', 2, 64)).toBe(2 * 2 * 18);
    expect(rowBytes('q8', 1, 33)).toBe(2 * 34);
    expect(rowBytes('bf16', 3, 10)).toBe(60);
    expect(rowBytes('f32', 1, 10)).toBe(40);
  });
});

describe('synthetic weights', () => {
  test('finite, small and non-constant in every storage form', () => {
    for (const dtype of ['f32', 'f16', 'bf16', 'q8', 'q4'] as const) {
      const w = syntheticWeight(dtype, [8, 64], 3);
      expect(w.bytes.byteLength).toBe(weightBytes(dtype, [8, 64]));
      let values: Float32Array;
      if (dtype === 'q8' || dtype === 'q4') values = dequantize(dtype, w.bytes, [8, 64]);
      else if (dtype === 'f32') values = new Float32Array(w.bytes.buffer);
      else {
        const bits = new Uint16Array(w.bytes.buffer);
        values = Float32Array.from(bits, dtype === 'f16' ? f16BitsToF32 : bf16BitsToF32);
      }
      const max = Math.max(...values.map(Math.abs));
      expect(values.every(Number.isFinite), dtype).toBe(true);
      expect(max, dtype).toBeLessThan(0.2);
      expect(new Set(values).size, dtype).toBeGreaterThan(8);
    }
  });
});

describe('timing', () => {
  test('median of odd and even sample counts', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
  });

  test('warm-up runs are not timed; samples × batch runs are', async () => {
    let runs = 0;
    let syncs = 0;
    const t = await timeRuns(
      () => runs++,
      async () => {
        syncs++;
      },
      { warmup: 2, reps: 3, batch: 4 },
    );
    expect(runs).toBe(2 + 3 * 4);
    expect(syncs).toBe(1 + 3);
    expect(t.reps).toBe(3);
    expect(t.ms).toBeGreaterThanOrEqual(0);
  });
});

function fixture(): BenchResult {
  const timing = { ms: 2, minMs: 1.5, maxMs: 3, reps: 3, batch: 1, method: 'wall' as const };
  return {
    config: { quick: true, smoke: false, maxWeightBytes: 4e8, maxImagePatches: 1024, warmup: 1, reps: 3 },
    conditions: {
      date: '2026-01-01T00:00:00.000Z',
      engine: 'abc1234',
      userAgent: 'HeadlessChrome/140.0.0.0',
      browser: 'HeadlessChrome/140.0.0.0',
      adapter: {
        vendor: 'google',
        architecture: 'swiftshader',
        device: '',
        description: 'SwiftShader',
        fallback: true,
      },
      features: ['timestamp-query'],
      maxBufferSize: 2 ** 31,
      maxStorageBufferBindingSize: 2 ** 31,
      hardware: false,
      timing: 'wall',
      peer: 'onnxruntime-web 1.30.0',
    },
    kernels: [
      {
        op: 'matvec',
        shape: '2048→1408',
        quant: 'q4',
        timing,
        bytes: 2e6,
        flops: 5.8e6,
        gbps: 1,
        gflops: 2.9,
      },
      {
        op: 'matvec',
        shape: '2048→163840',
        quant: 'f16',
        bytes: 6.7e8,
        flops: 0,
        skipped: 'skipped: budget',
      },
    ],
    peer: [
      {
        op: 'matvec',
        shape: '2048→1408',
        quant: 'q4',
        oursMs: 1,
        peerMs: 2,
        ratio: 0.5,
        agreement: 1e-6,
        peerOp: 'MatMulNBits',
      },
      {
        op: 'matmul M=64',
        shape: '2048→1408',
        quant: 'f32',
        oursMs: 3,
        peerMs: 1,
        ratio: 3,
        agreement: 2e-6,
        peerOp: 'MatMul',
      },
    ],
    endToEnd: [
      {
        model: 'tiny-a',
        quant: 'bf16',
        imageEncode: [{ pixels: '56×56', patches: 16, ms: 3 }],
        promptTokens: 12,
        prefillTokPerS: 100,
        decodeTokPerS: 10,
        decodeSteps: 4,
        ttftMs: 40,
        perToken: {
          submits: 2,
          readbacks: 1,
          dispatches: 80,
          bytesRead: 1.1e6,
          kvBytesRead: 1e5,
          minBytes: 1e6,
          ratio: 1.1,
          context: 20,
          achievedGBps: 0.011,
        },
      },
    ],
    failures: [],
    seconds: 12,
  };
}

describe('report', () => {
  test('Markdown: conditions, every row, skipped reasons, verdicts, per-token ratio', () => {
    const md = renderMarkdown(fixture());
    expect(md).toContain('| adapter | SwiftShader (CPU)');
    expect(md).toContain('| matvec | 2048→1408 | q4 | 2.000 | 1.00 | – | 2.90 |');
    expect(md).toContain('skipped: budget');
    expect(md).toContain('ours faster (×2.00)');
    expect(md).toMatch(/\*\*ours slower \(×3\.00\)\*\*: ours: the tiled GEMM/);
    expect(md).toContain(
      '| tiny-a | bf16 | 20 | 1.10 MB | 1.00 MB | 1.100 | 100.0 kB | 2.00 | 1.00 | 80.0 |',
    );
    expect(md.match(/SwiftShader \(CPU\) \|$/gm)!.length).toBe(2 + 2 + 1 + 1);
  });

  test('SVG: one bar per timed kernel and per compared shape, well-formed', () => {
    const svg = renderSvg(fixture());
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<rect x=/g)!.length).toBe(1 + 2);
    expect(svg).toContain('#c8553d'); // the losing shape in red
    expect(svg).toContain('2048→1408');
  });
});
