// The vision tower and projector on the WebGPU backend (core + vision kernels) against every golden case
// with images, in Chromium. Golden files come from the Vite server through /@fs/ (fs.allow ['..']);
// the case's expected pixel_values are the input, so preprocessing is not involved.
// Also: several images in one call give the same features as one image at a time (no cross-image leak).
import { describe, expect, test } from 'vitest';
import { server } from 'vitest/browser';
import { testRuntime } from '../gpu/testing.ts';
import { createGpuCoreOps } from '../kernels/core/gpu_core_ops.ts';
import { type Comparison, compare, maxRelAtMost } from '../kernels/testing.ts';
import type { Grid } from '../kernels/types.ts';
import { createGpuVisionOps } from '../kernels/vision/gpu_vision_ops.ts';
import * as projector from '../model/projector.ts';
import * as tower from '../model/vision.ts';
import { browserGoldenIO } from './browser_io.ts';
import { type GoldenCase, type GoldenTensorRef, hasVisionGoldens, joinPath, matrixShape } from './case.ts';
import { loadGoldenModel, perFolder, readCases, readTensor, suiteCaseDirs } from './reader.ts';

const TOL = maxRelAtMost(1e-4); // golden README: max|got − exp| / max|exp| ≤ 1e-4 per tensor
const io = browserGoldenIO;
const root = joinPath(server.config.root, '../shared/golden');
const cases = (await readCases(io, await suiteCaseDirs(io, root))).filter(hasVisionGoldens);
const read = (c: GoldenCase, ref: GoldenTensorRef) => readTensor(io, c, ref);
const loadModel = perFolder((dir) =>
  loadGoldenModel(io, dir, { keep: (n) => n.startsWith('vision.') || n.startsWith('projector.') }),
);

async function gpuSetup(modelDir: string) {
  const { config, host } = await loadModel(modelDir);
  const rt = await testRuntime();
  const vision = createGpuVisionOps(rt);
  const k: tower.VisionKernels = { ...createGpuCoreOps(rt), ...vision };
  const vw = tower.loadVisionWeights(k, host, config.vision);
  const pw = projector.loadProjectorWeights(k, host, config);
  const done = () => {
    tower.releaseVisionWeights(k, vw);
    projector.releaseProjectorWeights(k, pw);
    vision.clearVisionTables();
  };
  return { config, k, vw, pw, done };
}

const gridText = (grids: readonly Grid[]) => grids.map((g) => `${g.h}×${g.w}`).join(', ');

describe('vision tower + projector (WebGPU) vs goldens', () => {
  test('golden cases with images were found through /@fs/', () => {
    expect(cases.length).toBeGreaterThanOrEqual(2);
  });

  for (const c of cases) {
    test(`${c.name} (grids ${gridText(c.grids)})`, async () => {
      const { config, k, vw, pw, done } = await gpuSetup(c.modelDir);
      const posCache = new tower.PosEmbCache();
      const errors: Record<string, Comparison> = {};
      if (c.debug.posEmb) {
        const pos = posCache.get(k, vw.posEmb, c.grids);
        errors.pos_emb = compare(await k.read(pos), await read(c, c.debug.posEmb), TOL);
      }
      const pixels = k.upload(await read(c, c.expected.pixelValues), matrixShape(c.expected.pixelValues));
      const visionOut = tower.encodeImages(k, vw, config.vision, pixels, c.grids, posCache);
      errors.vision_tower_out = compare(
        await k.read(visionOut),
        await read(c, c.expected.visionTowerOut),
        TOL,
      );
      const features = projector.project(k, pw, config, visionOut, c.grids);
      errors.image_features = compare(await k.read(features), await read(c, c.expected.imageFeatures), TOL);
      const values = Object.fromEntries(Object.entries(errors).map(([name, r]) => [name, r.value]));
      console.log(`[golden gpu] ${c.name}`, JSON.stringify(values));
      k.release(pixels, visionOut, features);
      posCache.clear(k);
      done();
      for (const [name, r] of Object.entries(errors))
        expect(r.pass, `${c.name} ${name}: ${r.text}`).toBe(true);
    });
  }

  for (const c of cases.filter((c) => c.grids.length > 1)) {
    test(`${c.name}: images in one call = one at a time (no cross-image leak)`, async () => {
      const { config, k, vw, pw, done } = await gpuSetup(c.modelDir);
      const allPixels = await read(c, c.expected.pixelValues);
      const P = matrixShape(c.expected.pixelValues)[1]!;
      const together = k.upload(allPixels, matrixShape(c.expected.pixelValues));
      const vt = tower.encodeImages(k, vw, config.vision, together, c.grids);
      const ft = projector.project(k, pw, config, vt, c.grids);
      const joint = await k.read(ft);
      k.release(together, vt, ft);

      const separate: number[] = [];
      let row = 0;
      for (const g of c.grids) {
        const n = g.h * g.w;
        const px = k.upload(allPixels.slice(row * P, (row + n) * P), [n, P]);
        const v = tower.encodeImages(k, vw, config.vision, px, [g]);
        const f = projector.project(k, pw, config, v, [g]);
        separate.push(...(await k.read(f)));
        k.release(px, v, f);
        row += n;
      }
      done();
      // Same kernels on the same rows: only reduction order inside a tile could differ.
      const r = compare(joint, separate, maxRelAtMost(1e-6));
      console.log(`[golden gpu] ${c.name} joint vs separate`, r.value);
      expect(r.pass, `${c.name}: joint vs per-image features: ${r.text}`).toBe(true);
    });
  }
});
