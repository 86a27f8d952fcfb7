// The vision tower and projector on the reference backend against every golden case with images.
// The case's expected pixel_values are the input, so this test does not depend on preprocessing.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseConfig } from '../config/config.ts';
import { GOLDEN_ROOT } from '../golden/location.ts';
import { createRefCoreOps } from '../kernels/core/ref_core_ops.ts';
import { createRefVisionOps } from '../kernels/vision/ref_ops.ts';
import type { HostWeight } from '../tensor/types.ts';
import { loadHostWeights } from '../weights/node_source.ts';
import { loadProjectorWeights, project } from './projector.ts';
import { encodeImages, loadVisionWeights } from './vision.ts';
import {
  f32FromBytes,
  GOLDEN_FLOAT_TOLERANCE,
  type GoldenTensorEntry,
  maxRelError,
  parseVisionCase,
  type VisionGoldenCase,
} from './vision_golden_cases.ts';

const GOLDEN_DIR = GOLDEN_ROOT;
const casesDir = join(GOLDEN_DIR, 'cases');
const cases = readdirSync(casesDir)
  .sort()
  .map((name) => {
    const dir = join(casesDir, name);
    return parseVisionCase(name, dir, JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')));
  })
  .filter((c): c is VisionGoldenCase => c !== null);

const read = (c: VisionGoldenCase, e: GoldenTensorEntry) => f32FromBytes(readFileSync(join(c.dir, e.file)));
const weightsByModel = new Map<string, Promise<Map<string, HostWeight>>>();

describe('vision tower + projector (reference backend) vs goldens', () => {
  test('the golden suite has image cases for both tiny models', () => {
    const models = new Set(cases.map((c) => c.modelDir));
    expect(cases.length).toBeGreaterThanOrEqual(2);
    expect(models.size).toBeGreaterThanOrEqual(2);
  });

  for (const c of cases) {
    test(`${c.name} (grids ${c.grids.map((g) => `${g.h}×${g.w}`).join(', ')})`, async () => {
      if (!weightsByModel.has(c.modelDir)) weightsByModel.set(c.modelDir, loadHostWeights(c.modelDir));
      const host = await weightsByModel.get(c.modelDir)!;
      const cfg = parseConfig(JSON.parse(readFileSync(join(c.modelDir, 'config.json'), 'utf8')));
      const k = { ...createRefCoreOps(), ...createRefVisionOps() };
      const vw = loadVisionWeights(k, host, cfg.vision);
      const pw = loadProjectorWeights(k, host, cfg);

      const errors: Record<string, number> = {};
      if (c.posEmb) {
        const pos = k.posEmbInterp(vw.posEmb, c.grids);
        errors.pos_emb = maxRelError(await k.read(pos), read(c, c.posEmb));
      }
      const pixels = k.upload(read(c, c.pixelValues), c.pixelValues.shape);
      const visionOut = encodeImages(k, vw, cfg.vision, pixels, c.grids);
      errors.vision_tower_out = maxRelError(await k.read(visionOut), read(c, c.visionTowerOut));
      const features = project(k, pw, cfg, visionOut, c.grids);
      expect(features.shape).toEqual(c.imageFeatures.shape);
      errors.image_features = maxRelError(await k.read(features), read(c, c.imageFeatures));

      console.log(`[golden ref] ${c.name}`, JSON.stringify(errors));
      for (const [name, err] of Object.entries(errors)) {
        expect(err, `${c.name} ${name}: max|got−exp|/max|exp|`).toBeLessThanOrEqual(GOLDEN_FLOAT_TOLERANCE);
      }
    });
  }
});
