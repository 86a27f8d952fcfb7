// Every golden case through the language model on the WebGPU backend (core + language kernels), in
// Chromium: prompt logits (one prefill at pos 0), 8 greedy decode steps through the latent cache, the
// greedy tokens sampled on the GPU, and the prompt's routed experts. Image features come from the case's
// image_features.bin, so vision is not involved. Golden files are fetched through Vite's /@fs/.
import { describe, expect, onTestFinished, test } from 'vitest';
import { server } from 'vitest/browser';
import type { Tuning } from '../gpu/runtime_types.ts';
import { testRuntime } from '../gpu/testing.ts';
import { createGpuCoreOps } from '../kernels/core/gpu_core_ops.ts';
import { createGpuLanguageOps } from '../kernels/language/gpu_language_ops.ts';
import { compare, maxRelAtMost } from '../kernels/testing.ts';
import type { Kernels } from '../kernels/types.ts';
import { KvCache } from '../model/kv_cache.ts';
import { LanguageModel, loadLanguageWeights } from '../model/language.ts';
import { browserGoldenIO } from './browser_io.ts';
import { type GoldenCase, type GoldenTensorRef, joinPath } from './case.ts';
import { checkRouting } from './compare.ts';
import { loadGoldenModel, perFolder, readCases, readTensor, suiteCaseDirs } from './reader.ts';
import { recordRouting } from './testing.ts';

const TOL = maxRelAtMost(1e-4); // golden README: max|got − exp| / max|exp| ≤ 1e-4 per tensor
const io = browserGoldenIO;
const cases = await readCases(io, await suiteCaseDirs(io, joinPath(server.config.root, '../shared/golden')));
const read = (c: GoldenCase, ref: GoldenTensorRef) => readTensor(io, c, ref);

const modelFor = perFolder(async (dir) => {
  const rt = await testRuntime();
  const k = { ...createGpuCoreOps(rt), ...createGpuLanguageOps(rt) } as unknown as Kernels;
  const { config: cfg, host } = await loadGoldenModel(io, dir);
  return { cfg, lm: new LanguageModel(cfg, loadLanguageWeights(k, host, cfg)), k };
});

const GREEDY = { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, seed: 0 };

// The adapter's own choices, and the kernels a GPU picks by default (a CPU adapter like SwiftShader would
// not run them otherwise): the tiled GEMM and the tiled grouped-MoE GEMM for the prompt, the many-workgroup
// sampler; f32 tiles (f16 tiles round activations past the goldens' 1e-4; their own tests bound them).
const KERNEL_SETS: Array<{ label: string; tuning: Partial<Tuning> }> = [
  { label: '', tuning: {} },
  {
    label: ' [GPU kernels forced]',
    tuning: { matmul: 'tiled', moePrefill: 'tiled', matmulTiles: 'f32', sampler: 'split' },
  },
];

describe('language model vs golden cases (GPU backend)', () => {
  test('finds golden cases', () => expect(cases.length).toBeGreaterThan(0));
  for (const { label, tuning } of KERNEL_SETS)
    for (const c of cases) {
      test(`${c.name}${label}: logits, greedy tokens (sampled on the GPU), step logits, routing`, async () => {
        const { cfg, lm, k: base } = await modelFor(c.modelDir);
        const rt = await testRuntime();
        const saved = { ...rt.tuning };
        Object.assign(rt.tuning, tuning);
        onTestFinished(() => {
          Object.assign(rt.tuning, saved);
        });
        const routing = recordRouting(base);
        const k = routing.k;
        const T = c.inputIds.length;
        const V = cfg.text.vocabSize;
        const feats = c.expected.imageFeatures
          ? k.upload(await read(c, c.expected.imageFeatures), c.expected.imageFeatures.shape)
          : null;
        const cache = KvCache.create(k, cfg.text, T + 8);
        const x = lm.embedWithImages(k, c.inputIds, feats);
        const logitsT = lm.forward(k, x, 0, cache, { tokens: c.inputIds });
        const logits = await k.read(logitsT);
        const prompt = await routing.take();
        base.release(x, logitsT, ...(feats ? [feats] : []));
        const last = k.sliceRows(k.upload(logits, [T, V]), T - 1, 1);
        let id = k.sample(last, null, GREEDY, 0);
        const tokens: number[] = [];
        const steps = new Float32Array(8 * V);
        for (let i = 0; i < 8; i++) {
          tokens.push((await k.readU32(id))[0]!);
          const xi = lm.embed(k, [tokens[i]!]);
          const li = lm.forward(k, xi, T + i, cache, { tokens: [tokens[i]!], lastRowOnly: true });
          steps.set(await k.read(li), i * V);
          base.release(id, xi);
          routing.drop();
          id = k.sample(li, null, GREEDY, i + 1);
          base.release(li);
        }
        base.release(id);
        cache.release(k);
        const errLogits = compare(logits, await read(c, c.expected.logits!), TOL);
        const errSteps = compare(steps, await read(c, c.expected.stepLogits!), TOL);
        console.log(
          `${c.name}${label} (GPU): logits ${errLogits.value.toExponential(2)} step_logits ${errSteps.value.toExponential(2)} tokens ${tokens.join(',')}`,
        );
        expect(tokens).toEqual(c.expected.newTokens);
        expect(errLogits.pass, `${c.name} logits: ${errLogits.text}`).toBe(true);
        expect(errSteps.pass, `${c.name} step_logits: ${errSteps.text}`).toBe(true);
        const want = c.debug.routing;
        if (want) expect(checkRouting(want, prompt, cfg.text.numExpertsPerTok).detail).toBeUndefined();
        // the forced kernels ran (cumulative over the file's runtime: the forced cases come last)
        for (const [forced, op] of [
          [tuning.matmul, 'matmul_tiled|'],
          [tuning.moePrefill, 'matmul_tiled_moe|'],
        ] as const)
          if (forced)
            expect(
              rt.pipelines.keys().some((key) => key.startsWith(op)),
              `${op} ran`,
            ).toBe(true);
      });
    }
});
