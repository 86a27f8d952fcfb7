// The vision tower and projector on the reference backend against every golden case with images.
// The case's expected pixel_values are the input, so this test does not depend on preprocessing.
import { describe, expect, test } from 'vitest';
import { createRefCoreOps } from '../kernels/core/ref_core_ops.ts';
import { createRefVisionOps } from '../kernels/vision/ref_vision_ops.ts';
import { loadProjectorWeights, project } from '../model/projector.ts';
import { encodeImages, loadVisionWeights } from '../model/vision.ts';
import { type GoldenCase, type GoldenTensorRef, hasVisionGoldens, matrixShape } from './case.ts';
import { maxRelError } from './compare.ts';
import { GOLDEN_ROOT } from './location.ts';
import { discoverCases, nodeGoldenIO } from './node_io.ts';
import { loadGoldenModel, perFolder, readCases, readTensor } from './reader.ts';

const TOL = 1e-4; // golden README: max|got − exp| / max|exp| per tensor
const cases = (await readCases(nodeGoldenIO, discoverCases(GOLDEN_ROOT))).filter(hasVisionGoldens);
const read = (c: GoldenCase, ref: GoldenTensorRef) => readTensor(nodeGoldenIO, c, ref);
const modelFor = perFolder((dir) =>
  loadGoldenModel(nodeGoldenIO, dir, { keep: (n) => n.startsWith('vision.') || n.startsWith('projector.') }),
);

describe('vision tower + projector (reference backend) vs goldens', () => {
  test('the golden suite has image cases for both tiny models', () => {
    const models = new Set(cases.map((c) => c.modelDir));
    expect(cases.length).toBeGreaterThanOrEqual(2);
    expect(models.size).toBeGreaterThanOrEqual(2);
  });

  for (const c of cases) {
    test(`${c.name} (grids ${c.grids.map((g) => `${g.h}×${g.w}`).join(', ')})`, async () => {
      const { config: cfg, host } = await modelFor(c.modelDir);
      const k = { ...createRefCoreOps(), ...createRefVisionOps() };
      const vw = loadVisionWeights(k, host, cfg.vision);
      const pw = loadProjectorWeights(k, host, cfg);

      const errors: Record<string, number> = {};
      if (c.debug.posEmb) {
        const pos = k.posEmbInterp(vw.posEmb, c.grids);
        errors.pos_emb = maxRelError(await k.read(pos), await read(c, c.debug.posEmb));
      }
      const pixels = k.upload(await read(c, c.expected.pixelValues), matrixShape(c.expected.pixelValues));
      const visionOut = encodeImages(k, vw, cfg.vision, pixels, c.grids);
      errors.vision_tower_out = maxRelError(
        await k.read(visionOut),
        await read(c, c.expected.visionTowerOut),
      );
      const features = project(k, pw, cfg, visionOut, c.grids);
      expect(features.shape).toEqual(c.expected.imageFeatures.shape);
      errors.image_features = maxRelError(await k.read(features), await read(c, c.expected.imageFeatures));

      console.log(`[golden ref] ${c.name}`, JSON.stringify(errors));
      for (const [name, err] of Object.entries(errors)) {
        expect(err, `${c.name} ${name}: max|got−exp|/max|exp|`).toBeLessThanOrEqual(TOL);
      }
    });
  }
});
