// generate() itself (the production decode loop, not the golden runner) against every golden case on the
// CPU reference: images encoded, the prompt prefilled, each token sampled greedily on the backend and fed
// back through KimiVLModel.step. Its tokens must be the case's new_tokens and the logits it samples from
// must be the case's: the prompt's last row of `logits`, then each row of `step_logits`.
import { describe, expect, it } from 'vitest';
import type { GoldenCase } from '../golden/case.ts';
import { maxRelError } from '../golden/compare.ts';
import { GOLDEN_ROOT } from '../golden/location.ts';
import { discoverCases, nodeGoldenIO as io } from '../golden/node_io.ts';
import { loadGoldenModel, perFolder, readCase, readTensor } from '../golden/reader.ts';
import { createRefKernels } from '../kernels/ref_kernels.ts';
import { KimiVLModel } from '../model/kimi_vl.ts';
import type { Tensor } from '../tensor/types.ts';
import { decodePng } from '../vision/png.ts';
import { preprocessImages } from '../vision/preprocess.ts';
import { generate } from './generate.ts';
import { resolveGenerateOptions } from './params.ts';
import { TimingRecorder } from './timings.ts';

const k = createRefKernels();
const caseDirs = discoverCases(GOLDEN_ROOT);
const modelOf = perFolder(async (dir) => {
  const m = await loadGoldenModel(io, dir);
  return { model: KimiVLModel.load(k, m.config, m.host), preprocessor: m.preprocessor };
});

async function imageFeatures(c: GoldenCase): Promise<Tensor | null> {
  if (!c.images.length) return null;
  const { model, preprocessor } = await modelOf(c.modelDir);
  const images = await Promise.all(c.images.map(async (p) => decodePng(await io.readBytes(p))));
  return model.imageFeatures(k, preprocessImages(images, preprocessor!)); // [F, D]
}

describe('generate() vs golden cases (reference kernels)', () => {
  it('finds the golden cases', () => expect(caseDirs.length).toBeGreaterThanOrEqual(8));

  for (const dir of caseDirs) {
    it(`${dir.split('/').pop()}: greedy tokens and the logits of every step`, async () => {
      const c = await readCase(io, dir);
      const { model } = await modelOf(c.modelDir);
      const steps = c.expected.newTokens.length;
      expect(steps).toBeGreaterThan(0);
      const features = await imageFeatures(c);
      const cache = model.newCache(k, c.inputIds.length + steps + 1);
      const seen: Float32Array[] = [];
      const r = await generate(k, model, cache, {
        ids: c.inputIds,
        features,
        // one more token than the case holds, so the last expected token is fed and its logits seen
        options: resolveGenerateOptions({ temperature: 0, maxTokens: steps + 1 }, false),
        stopIds: [],
        isCancelled: () => false,
        onToken: () => {},
        onLogits: async (logits) => void seen.push(await k.read(logits)),
        timings: new TimingRecorder(),
      });
      if (features) k.release(features);
      cache.release(k);
      expect(r.tokens.slice(0, steps)).toEqual(c.expected.newTokens);
      expect(seen.length).toBe(steps + 1);

      const tol = c.tolerance.floatMaxRel;
      const V = seen[0]!.length;
      const prompt = await readTensor(io, c, c.expected.logits!); // [T, V]
      const promptErr = maxRelError(seen[0]!, prompt.subarray(prompt.length - V));
      const stepLogits = new Float32Array(steps * V);
      seen.slice(1).forEach((row, i) => {
        stepLogits.set(row, i * V);
      });
      const stepErr = maxRelError(stepLogits, await readTensor(io, c, c.expected.stepLogits!)); // [steps, V]
      console.log(
        `${c.name}: generate() last prompt row ${promptErr.toExponential(2)}, steps ${stepErr.toExponential(2)}`,
      );
      expect(promptErr).toBeLessThanOrEqual(tol);
      expect(stepErr).toBeLessThanOrEqual(tol);
    });
  }
});
