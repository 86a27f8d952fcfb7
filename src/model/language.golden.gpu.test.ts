// Every golden case through the language model on the WebGPU backend (core + language kernels), in
// Chromium: prompt logits (one prefill at pos 0), 8 greedy decode steps through the latent cache, the
// greedy tokens sampled on the GPU, and the prompt's routed experts. Image features come from the case's
// image_features.bin, so vision is not involved. Golden files are fetched through Vite's /@fs/.
import { describe, expect, test } from 'vitest';
import { server } from 'vitest/browser';
import type { KimiVLConfig } from '../config/config.ts';
import { browserGoldenIO } from '../golden/browser_io.ts';
import { f32FromBytes, type GoldenCase, type GoldenTensorRef, joinPath, parseCase } from '../golden/case.ts';
import { createGpuCoreOps } from '../kernels/core/gpu_core_ops.ts';
import { createGpuLanguageOps } from '../kernels/language/gpu_ops.ts';
import { testRuntime } from '../kernels/testing.ts';
import type { Kernels } from '../kernels/types.ts';
import type { HostWeight, Tensor } from '../tensor/types.ts';
import { assembleWeights } from '../weights/assemble.ts';
import { openCheckpoint } from '../weights/checkpoint.ts';
import { KvCache } from './kv_cache.ts';
import { LanguageModel, loadLanguageWeights } from './language.ts';

const TOL = 1e-4; // golden README: max|got − exp| / max|exp| per tensor
const goldenDir = joinPath(server.config.root, '../shared/golden');
const readJson = async (p: string) =>
  JSON.parse(new TextDecoder().decode(await browserGoldenIO.readBytes(p)));
const readTensor = async (c: GoldenCase, e: GoldenTensorRef) =>
  f32FromBytes(await browserGoldenIO.readBytes(joinPath(c.dir, e.file)));

// A browser cannot list the cases folder: suite.json names them.
const suite = (await readJson(`${goldenDir}/suite.json`)) as { cases: { case: string }[] };
const cases: Array<{ c: GoldenCase; routing?: { moe_layers: number[]; experts: number[][][] } }> = [];
for (const { case: name } of suite.cases) {
  const dir = `${goldenDir}/cases/${name}`;
  const json = await readJson(`${dir}/case.json`);
  cases.push({ c: parseCase(name, dir, json), routing: json.debug?.routing_prompt });
}

function maxRelError(got: ArrayLike<number>, exp: ArrayLike<number>): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < exp.length; i++) {
    d = Math.max(d, Math.abs(got[i]! - exp[i]!));
    m = Math.max(m, Math.abs(exp[i]!));
  }
  return d / m;
}

const models = new Map<string, Promise<{ cfg: KimiVLConfig; lm: LanguageModel; k: Kernels }>>();
function modelFor(dir: string) {
  let m = models.get(dir);
  if (!m) {
    m = (async () => {
      const rt = await testRuntime();
      const k = { ...createGpuCoreOps(rt), ...createGpuLanguageOps(rt) } as unknown as Kernels;
      const ck = await openCheckpoint(browserGoldenIO.checkpointFiles(dir));
      const host = new Map<string, HostWeight>();
      for await (const [name, w] of assembleWeights(ck.config, ck.source, { quant: 'none' }))
        host.set(name, w);
      return { cfg: ck.config, lm: new LanguageModel(ck.config, loadLanguageWeights(k, host, ck.config)), k };
    })();
    models.set(dir, m);
  }
  return m;
}

const GREEDY = { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, seed: 0 };

describe('language model vs golden cases (GPU backend)', () => {
  test('finds golden cases', () => expect(cases.length).toBeGreaterThan(0));
  for (const { c, routing } of cases) {
    test(`${c.name}: logits, greedy tokens (sampled on the GPU), step logits, routing`, async () => {
      const { cfg, lm, k: base } = await modelFor(c.modelDir);
      const routedIds: Tensor[] = [];
      const k: Kernels = {
        ...base,
        moeRoute(x, g, b, r) {
          const out = base.moeRoute(x, g, b, r);
          routedIds.push(out.ids);
          // keep the ids alive for the check below: the model releases them after the experts
          return { ids: out.ids, weights: out.weights };
        },
        release(...ts) {
          base.release(...ts.filter((t) => !routedIds.includes(t)));
        },
      };
      const T = c.inputIds.length;
      const V = cfg.text.vocabSize;
      const feats = c.expected.imageFeatures
        ? k.upload(await readTensor(c, c.expected.imageFeatures), c.expected.imageFeatures.shape)
        : null;
      const cache = KvCache.create(k, cfg.text, T + 8);
      const x = lm.embedWithImages(k, c.inputIds, feats);
      const logitsT = lm.forward(k, x, 0, cache, { tokens: c.inputIds });
      const logits = await k.read(logitsT);
      const prompt = await Promise.all(routedIds.map((t) => k.readU32(t)));
      base.release(x, logitsT, ...routedIds, ...(feats ? [feats] : []));
      routedIds.length = 0;
      const last = k.sliceRows(k.upload(logits, [T, V]), T - 1, 1);
      let id = k.sample(last, null, GREEDY, 0);
      const tokens: number[] = [];
      const steps = new Float32Array(8 * V);
      for (let i = 0; i < 8; i++) {
        tokens.push((await k.readU32(id))[0]!);
        const xi = lm.embed(k, [tokens[i]!]);
        const li = lm.forward(k, xi, T + i, cache, { tokens: [tokens[i]!], lastRowOnly: true });
        steps.set(await k.read(li), i * V);
        base.release(id, xi, ...routedIds);
        routedIds.length = 0;
        id = k.sample(li, null, GREEDY, i + 1);
        base.release(li);
      }
      base.release(id);
      cache.release(k);
      const errLogits = maxRelError(logits, await readTensor(c, c.expected.logits!));
      const errSteps = maxRelError(steps, await readTensor(c, c.expected.stepLogits!));
      console.log(
        `${c.name} (GPU): logits ${errLogits.toExponential(2)} step_logits ${errSteps.toExponential(2)} tokens ${tokens.join(',')}`,
      );
      expect(tokens).toEqual(c.expected.newTokens);
      expect(errLogits).toBeLessThanOrEqual(TOL);
      expect(errSteps).toBeLessThanOrEqual(TOL);
      if (routing) {
        const A = cfg.text.numExpertsPerTok;
        expect(prompt.length).toBe(routing.moe_layers.length);
        routing.moe_layers.forEach((layer, li) => {
          routing.experts[li]!.forEach((exp, pos) => {
            const ids = Array.from(prompt[li]!.subarray(pos * A, (pos + 1) * A)).sort((a, b) => a - b);
            expect(ids, `layer ${layer} position ${pos}`).toEqual(exp);
          });
        });
      }
    });
  }
});
