// The vision tower + projector in row chunks (src/model/vision_chunked.ts) on the WebGPU backend under a
// 16 KiB buffer cap (the limit guard refuses any buffer or binding above it): every golden image case
// matches the goldens (1e-4) and the whole-image path on an uncapped device (1e-5: the same kernels,
// only chunk boundaries differ), and the guard saw nothing above the cap.
import { describe, expect, test } from 'vitest';
import { server } from 'vitest/browser';
import { effectiveLimits, installLimitGuard } from '../gpu/limit_guard.ts';
import { withRuntime } from '../gpu/testing.ts';
import { createGpuKernels } from '../kernels/gpu_kernels.ts';
import { compare, maxRelAtMost } from '../kernels/testing.ts';
import { loadProjectorWeights, project } from '../model/projector.ts';
import { encodeImages, loadVisionWeights } from '../model/vision.ts';
import { encodeImagesChunked } from '../model/vision_chunked.ts';
import { browserGoldenIO } from './browser_io.ts';
import { type GoldenCase, type GoldenTensorRef, hasVisionGoldens, joinPath, matrixShape } from './case.ts';
import { loadGoldenModel, perFolder, readCases, readTensor, suiteCaseDirs } from './reader.ts';

const GOLDEN = maxRelAtMost(1e-4); // golden README: max|got − exp| / max|exp| ≤ 1e-4 per tensor
const SAME = maxRelAtMost(1e-5);
const CAP = 16384;
const io = browserGoldenIO;
const root = joinPath(server.config.root, '../shared/golden');
const cases = (await readCases(io, await suiteCaseDirs(io, root))).filter(hasVisionGoldens);
const read = (c: GoldenCase, ref: GoldenTensorRef) => readTensor(io, c, ref);
const loadModel = perFolder((dir) =>
  loadGoldenModel(io, dir, { keep: (n) => n.startsWith('vision.') || n.startsWith('projector.') }),
);

const concat = (parts: Float32Array[]) => {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};

describe(`vision in row chunks on the GPU under a ${CAP}-byte buffer cap`, () => {
  test('finds image cases', () => expect(cases.length).toBeGreaterThan(0));
  for (const c of cases) {
    test(c.name, async () => {
      const { config: cfg, host } = await loadModel(c.modelDir);
      const pixels = await read(c, c.expected.pixelValues);
      const whole = await withRuntime({}, async (rt) => {
        const k = createGpuKernels(rt);
        const vw = loadVisionWeights(k, host, cfg.vision);
        const vo = encodeImages(
          k,
          vw,
          cfg.vision,
          k.upload(pixels, matrixShape(c.expected.pixelValues)),
          c.grids,
        );
        const f = project(k, loadProjectorWeights(k, host, cfg), cfg, vo, c.grids);
        return { vo: await k.read(vo), f: await k.read(f) };
      });
      await withRuntime(
        {},
        async (rt) => {
          const guard = installLimitGuard(
            rt.device,
            effectiveLimits(rt.device.limits, { maxStorageBufferBindingSize: CAP, maxBufferSize: CAP }),
          );
          const k = createGpuKernels(rt);
          const vw = loadVisionWeights(k, host, cfg.vision);
          const pw = loadProjectorWeights(k, host, cfg);
          const got = encodeImagesChunked(k, vw, pw, cfg, pixels, c.grids, CAP);
          const vo = concat(await Promise.all(got.visionOut.map((t) => k.read(t))));
          const f = concat(await Promise.all(got.features.map((t) => k.read(t))));
          const errs = {
            vision_same: compare(vo, whole.vo, SAME),
            features_same: compare(f, whole.f, SAME),
            vision_golden: compare(vo, await read(c, c.expected.visionTowerOut), GOLDEN),
            features_golden: compare(f, await read(c, c.expected.imageFeatures), GOLDEN),
          };
          console.log(
            `${c.name}: ${got.visionOut.length} chunks, largest buffer ${guard.seen.largestBuffer}, binding ` +
              `${guard.seen.largestBinding}; ${Object.entries(errs)
                .map(([n, e]) => `${n} ${e.text}`)
                .join(' ')}`,
          );
          expect(got.visionOut.length).toBeGreaterThan(c.grids.length); // really chunked at this cap
          expect(guard.seen.largestBuffer).toBeLessThanOrEqual(CAP);
          expect(guard.seen.largestBinding).toBeLessThanOrEqual(CAP);
          for (const [name, e] of Object.entries(errs)) expect(e.pass, `${name}: ${e.text}`).toBe(true);
        },
        { guards: false }, // guard words would push pooled buffers past the cap's power-of-two bucket
      );
    });
  }
});
