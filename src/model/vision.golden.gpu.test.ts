// The vision tower and projector on the WebGPU backend (core + vision kernels) against every golden case
// with images, in Chromium. Golden files come from the Vite server through /@fs/ (fs.allow ['..']);
// the case's expected pixel_values are the input, so preprocessing is not involved.
// Also: several images in one call give the same features as one image at a time (no cross-image leak).
import { describe, expect, test } from 'vitest';
import { server } from 'vitest/browser';
import type { KimiVLConfig } from '../config/config.ts';
import { createGpuCoreOps } from '../kernels/core/gpu_core_ops.ts';
import { testRuntime } from '../kernels/testing.ts';
import type { Grid } from '../kernels/types.ts';
import { createGpuVisionOps } from '../kernels/vision/gpu_ops.ts';
import type { HostWeight } from '../tensor/types.ts';
import { assembleWeights } from '../weights/assemble.ts';
import { openCheckpoint } from '../weights/checkpoint.ts';
import { urlFiles } from '../weights/url_files.ts';
import { loadProjectorWeights, project, releaseProjectorWeights } from './projector.ts';
import {
  encodeImages,
  loadVisionWeights,
  PosEmbCache,
  releaseVisionWeights,
  type VisionKernels,
} from './vision.ts';
import {
  f32FromBytes,
  GOLDEN_FLOAT_TOLERANCE,
  type GoldenTensorEntry,
  maxRelError,
  parseVisionCase,
  resolvePosix,
  type VisionGoldenCase,
} from './vision_golden_cases.ts';

const goldenDir = resolvePosix(server.config.root, '../shared/golden');

async function fetchBytes(absPath: string): Promise<Uint8Array> {
  const res = await fetch(`/@fs${absPath}`);
  if (!res.ok) throw new Error(`GET /@fs${absPath}: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}
const fetchJson = async (absPath: string) => JSON.parse(new TextDecoder().decode(await fetchBytes(absPath)));
const readTensor = async (c: VisionGoldenCase, e: GoldenTensorEntry) =>
  f32FromBytes(await fetchBytes(`${c.dir}/${e.file}`));

// A browser cannot list the cases folder: suite.json names them.
const suite = (await fetchJson(`${goldenDir}/suite.json`)) as { cases: { case: string }[] };
const cases: VisionGoldenCase[] = [];
for (const { case: name } of suite.cases) {
  const dir = `${goldenDir}/cases/${name}`;
  const c = parseVisionCase(name, dir, await fetchJson(`${dir}/case.json`));
  if (c) cases.push(c);
}

const models = new Map<string, Promise<{ config: KimiVLConfig; host: Map<string, HostWeight> }>>();
function loadModel(modelDir: string) {
  if (!models.has(modelDir)) {
    models.set(
      modelDir,
      (async () => {
        const ck = await openCheckpoint(urlFiles(`${location.origin}/@fs${modelDir}/`));
        const host = new Map<string, HostWeight>();
        for await (const [name, w] of assembleWeights(ck.config, ck.source, { quant: 'none' })) {
          if (name.startsWith('vision.') || name.startsWith('projector.')) host.set(name, w);
        }
        return { config: ck.config, host };
      })(),
    );
  }
  return models.get(modelDir)!;
}

async function gpuSetup(modelDir: string) {
  const { config, host } = await loadModel(modelDir);
  const rt = await testRuntime();
  const vision = createGpuVisionOps(rt);
  const k: VisionKernels = { ...createGpuCoreOps(rt), ...vision };
  const vw = loadVisionWeights(k, host, config.vision);
  const pw = loadProjectorWeights(k, host, config);
  const done = () => {
    releaseVisionWeights(k, vw);
    releaseProjectorWeights(k, pw);
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
      const posCache = new PosEmbCache();
      const errors: Record<string, number> = {};
      if (c.posEmb) {
        const pos = posCache.get(k, vw.posEmb, c.grids);
        errors.pos_emb = maxRelError(await k.read(pos), await readTensor(c, c.posEmb));
      }
      const pixels = k.upload(await readTensor(c, c.pixelValues), c.pixelValues.shape);
      const visionOut = encodeImages(k, vw, config.vision, pixels, c.grids, posCache);
      errors.vision_tower_out = maxRelError(await k.read(visionOut), await readTensor(c, c.visionTowerOut));
      const features = project(k, pw, config, visionOut, c.grids);
      errors.image_features = maxRelError(await k.read(features), await readTensor(c, c.imageFeatures));
      console.log(`[golden gpu] ${c.name}`, JSON.stringify(errors));
      k.release(pixels, visionOut, features);
      posCache.clear(k);
      done();
      for (const [name, err] of Object.entries(errors)) {
        expect(err, `${c.name} ${name}: max|got−exp|/max|exp|`).toBeLessThanOrEqual(GOLDEN_FLOAT_TOLERANCE);
      }
    });
  }

  for (const c of cases.filter((c) => c.grids.length > 1)) {
    test(`${c.name}: images in one call = one at a time (no cross-image leak)`, async () => {
      const { config, k, vw, pw, done } = await gpuSetup(c.modelDir);
      const allPixels = await readTensor(c, c.pixelValues);
      const P = c.pixelValues.shape[1]!;
      const together = k.upload(allPixels, c.pixelValues.shape);
      const vt = encodeImages(k, vw, config.vision, together, c.grids);
      const ft = project(k, pw, config, vt, c.grids);
      const joint = await k.read(ft);
      k.release(together, vt, ft);

      const separate: number[] = [];
      let row = 0;
      for (const g of c.grids) {
        const n = g.h * g.w;
        const px = k.upload(allPixels.slice(row * P, (row + n) * P), [n, P]);
        const v = encodeImages(k, vw, config.vision, px, [g]);
        const f = project(k, pw, config, v, [g]);
        separate.push(...(await k.read(f)));
        k.release(px, v, f);
        row += n;
      }
      done();
      // Same kernels on the same rows: only reduction order inside a tile could differ.
      const err = maxRelError(joint, separate);
      console.log(`[golden gpu] ${c.name} joint vs separate`, err);
      expect(err, `${c.name}: joint vs per-image features`).toBeLessThanOrEqual(1e-6);
    });
  }
});
