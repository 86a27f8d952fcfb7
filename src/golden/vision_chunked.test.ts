// The vision tower + projector in row chunks (src/model/vision_chunked.ts, the path a small buffer limit
// takes) against the whole-image path on the reference backend, for every golden image case at 16 KiB
// and 32 KiB: the same tensors to 1e-6 (only summation order may differ) and the goldens to their 1e-4.
// The chunks must really be chunks (more than one per image where the image is over the limit) and no
// chunk activation may pass the limit.
import { describe, expect, test } from 'vitest';
import { createRefCoreOps } from '../kernels/core/ref_core_ops.ts';
import { createRefVisionOps } from '../kernels/vision/ref_vision_ops.ts';
import { loadProjectorWeights, project } from '../model/projector.ts';
import { encodeImages, loadVisionWeights } from '../model/vision.ts';
import { encodeImagesChunked, visionChunkPlan } from '../model/vision_chunked.ts';
import type { Tensor } from '../tensor/types.ts';
import { type GoldenCase, type GoldenTensorRef, hasVisionGoldens, matrixShape } from './case.ts';
import { maxRelError } from './compare.ts';
import { GOLDEN_ROOT } from './location.ts';
import { discoverCases, nodeGoldenIO } from './node_io.ts';
import { loadGoldenModel, perFolder, readCases, readTensor } from './reader.ts';

const GOLDEN_TOL = 1e-4; // golden README: max|got − exp| / max|exp| per tensor
const SAME_TOL = 1e-6; // chunked vs whole on the same backend
const cases = (await readCases(nodeGoldenIO, discoverCases(GOLDEN_ROOT))).filter(hasVisionGoldens);
const read = (c: GoldenCase, ref: GoldenTensorRef) => readTensor(nodeGoldenIO, c, ref);
const modelFor = perFolder((dir) =>
  loadGoldenModel(nodeGoldenIO, dir, { keep: (n) => n.startsWith('vision.') || n.startsWith('projector.') }),
);

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

describe('vision tower + projector in row chunks (reference backend)', () => {
  test('the golden suite has image cases', () => expect(cases.length).toBeGreaterThanOrEqual(2));

  for (const cap of [16384, 32768])
    for (const c of cases) {
      test(`${c.name} at a ${cap}-byte limit`, async () => {
        const { config: cfg, host } = await modelFor(c.modelDir);
        const k = { ...createRefCoreOps(), ...createRefVisionOps() };
        const vw = loadVisionWeights(k, host, cfg.vision);
        const pw = loadProjectorWeights(k, host, cfg);
        const pixels = await read(c, c.expected.pixelValues);
        const whole = encodeImages(
          k,
          vw,
          cfg.vision,
          k.upload(pixels, matrixShape(c.expected.pixelValues)),
          c.grids,
        );
        const wholeFeatures = project(k, pw, cfg, whole, c.grids);

        const got = encodeImagesChunked(k, vw, pw, cfg, pixels, c.grids, cap);
        const bytes = (t: Tensor) => 4 * t.shape.reduce((a, b) => a * b, 1);
        for (const t of [...got.visionOut, ...got.features]) expect(bytes(t)).toBeLessThanOrEqual(cap);
        // an image whose [L, I] MLP activation is over the limit is in more than one chunk
        const overLimit = c.grids.filter((g) => 4 * g.h * g.w * cfg.vision.intermediateSize > cap);
        expect(got.visionOut.length).toBeGreaterThanOrEqual(c.grids.length + overLimit.length);

        const vo = concat(await Promise.all(got.visionOut.map((t) => k.read(t))));
        const feats = concat(await Promise.all(got.features.map((t) => k.read(t))));
        const errors = {
          vision_same: maxRelError(vo, await k.read(whole)),
          features_same: maxRelError(feats, await k.read(wholeFeatures)),
          vision_golden: maxRelError(vo, await read(c, c.expected.visionTowerOut)),
          features_golden: maxRelError(feats, await read(c, c.expected.imageFeatures)),
        };
        console.log(
          `[chunked vision] ${c.name} cap ${cap}: ${got.visionOut.length} chunks`,
          JSON.stringify(errors),
        );
        expect(errors.vision_same).toBeLessThanOrEqual(SAME_TOL);
        expect(errors.features_same).toBeLessThanOrEqual(SAME_TOL);
        expect(errors.vision_golden).toBeLessThanOrEqual(GOLDEN_TOL);
        expect(errors.features_golden).toBeLessThanOrEqual(GOLDEN_TOL);
      });
    }

  test('posEmbInterp grid rows are the rows of the whole table, and are checked', async () => {
    const { config: cfg, host } = await modelFor(cases[0]!.modelDir);
    const k = { ...createRefCoreOps(), ...createRefVisionOps() };
    const vw = loadVisionWeights(k, host, cfg.vision);
    const g = { h: 6, w: 10 };
    const D = cfg.vision.hiddenSize;
    const all = await k.read(k.posEmbInterp(vw.posEmb, [g]));
    const part = k.posEmbInterp(vw.posEmb, [g], { start: 2, count: 3 });
    expect(part.shape).toEqual([30, D]);
    expect(await k.read(part)).toEqual(all.slice(20 * D, 50 * D));
    expect(() => k.posEmbInterp(vw.posEmb, [g], { start: 4, count: 3 })).toThrow(/grid rows/);
    expect(() => k.posEmbInterp(vw.posEmb, [g, g], { start: 0, count: 1 })).toThrow(/one grid/);
  });

  test('a limit below two grid rows, one pixel row or one head is a GpuLimitError', async () => {
    const { config: cfg } = await modelFor(cases[0]!.modelDir);
    expect(() => visionChunkPlan(cfg, { h: 8, w: 10 }, 2048)).toThrow(
      expect.objectContaining({ name: 'GpuLimitError' }),
    );
    expect(visionChunkPlan(cfg, { h: 8, w: 10 }, 1 << 20).towerRows).toBe(80);
  });
});
