// Every golden case through the language model on the REF backend: prompt logits (one prefill at pos 0),
// 8 greedy decode steps through the latent cache, and the routed experts of the prompt.
// Image features come from the case's expected image_features.bin, so this does not depend on vision.
import { describe, expect, it } from 'vitest';
import { createRefCoreOps } from '../kernels/core/ref_core_ops.ts';
import { createRefLanguageOps } from '../kernels/language/ref_language_ops.ts';
import { argmaxRef } from '../kernels/language/sample.ref.ts';
import type { Kernels } from '../kernels/types.ts';
import { KvCache } from '../model/kv_cache.ts';
import { LanguageModel, loadLanguageWeights } from '../model/language.ts';
import type { Tensor } from '../tensor/types.ts';
import type { GoldenCase } from './case.ts';
import { checkRouting, maxRelError } from './compare.ts';
import { GOLDEN_ROOT } from './location.ts';
import { discoverCases, nodeGoldenIO } from './node_io.ts';
import { loadGoldenModel, perFolder, readCases, readTensor } from './reader.ts';
import { recordRouting } from './testing.ts';

const TOL = 1e-4; // golden README: max|got − exp| / max|exp| per tensor
const cases = await readCases(nodeGoldenIO, discoverCases(GOLDEN_ROOT));
const read = (c: GoldenCase, ref: Parameters<typeof readTensor>[2]) => readTensor(nodeGoldenIO, c, ref);

const modelFor = perFolder(async (dir) => {
  const { config: cfg, host } = await loadGoldenModel(nodeGoldenIO, dir);
  const k = { ...createRefCoreOps(), ...createRefLanguageOps() } as unknown as Kernels;
  return { cfg, lm: new LanguageModel(cfg, loadLanguageWeights(k, host, cfg)), k };
});

async function runCase(c: GoldenCase) {
  const { cfg, lm, k: base } = await modelFor(c.modelDir);
  // record the router's ids per call (MoE layers run in order during the prefill)
  const routing = recordRouting(base);
  const k = routing.k;
  const T = c.inputIds.length;
  const f = c.expected.imageFeatures;
  const feats: Tensor | null = f ? k.upload(await read(c, f), f.shape) : null;
  const cache = KvCache.create(k, cfg.text, T + 8);
  const x = lm.embedWithImages(k, c.inputIds, feats);
  const logits = await k.read(lm.forward(k, x, 0, cache, { tokens: c.inputIds }));
  const routedPrompt = await routing.take();
  const V = cfg.text.vocabSize;
  const tokens = [argmaxRef(logits.subarray((T - 1) * V))];
  const steps = new Float32Array(8 * V);
  for (let i = 0; i < 8; i++) {
    const xi = lm.embed(k, [tokens[i]!]);
    const li = await k.read(lm.forward(k, xi, T + i, cache, { tokens: [tokens[i]!] }));
    steps.set(li, i * V);
    tokens.push(argmaxRef(li));
    routing.drop();
  }
  return { logits, steps, tokens: tokens.slice(0, 8), routedPrompt, cfg, cache };
}

describe('language model vs golden cases (REF backend)', () => {
  it('finds golden cases', () => expect(cases.length).toBeGreaterThan(0));
  for (const c of cases) {
    it(`${c.name}: logits, greedy tokens, step logits, routing`, async () => {
      const r = await runCase(c);
      const errLogits = maxRelError(r.logits, await read(c, c.expected.logits!));
      const errSteps = maxRelError(r.steps, await read(c, c.expected.stepLogits!));
      console.log(
        `${c.name}: logits ${errLogits.toExponential(2)} step_logits ${errSteps.toExponential(2)} tokens ${r.tokens.join(',')}`,
      );
      expect(r.tokens).toEqual(c.expected.newTokens);
      expect(errLogits).toBeLessThanOrEqual(TOL);
      expect(errSteps).toBeLessThanOrEqual(TOL);
      expect(r.cache.pos).toBe(c.inputIds.length + 8);
      const rp = c.debug.routing;
      if (rp) expect(checkRouting(rp, r.routedPrompt, r.cfg.text.numExpertsPerTok).detail).toBeUndefined();
    });
  }
});
