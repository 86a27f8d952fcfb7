// REAL-SIZE TEST (slow on SwiftShader, ~1-2 min): one MoonViT block + final norm + the projector at the real
// Kimi-VL sizes (D 1152, 16 heads × 72, MLP 4304, merged 4608 → 2048) with random bf16 weights, on one
// 40×40-patch image (1600 patches), WebGPU vs the reference backend. The GPU work is recorded and
// submitted first so SwiftShader runs while the (single-threaded) reference computes.
import { describe, expect, test } from 'vitest';
import { createRefCoreOps } from '../kernels/core/ref_core_ops.ts';
import { createGpuCoreOps } from '../kernels/core/gpu_core_ops.ts';
import { encodeWeight, nmse, randn, testRuntime } from '../kernels/testing.ts';
import type { Grid, HostWeight } from '../kernels/types.ts';
import { createGpuVisionOps } from '../kernels/vision/gpu_ops.ts';
import { createRefVisionOps } from '../kernels/vision/ref_ops.ts';
import type { VisionConfig } from '../weights/config.ts';
import { loadProjectorWeights, project } from './projector.ts';
import { encodeImages, loadVisionWeights, type VisionKernels } from './vision.ts';

const VISION: VisionConfig = {
  patchSize: 14,
  hiddenSize: 1152,
  numLayers: 1,
  numHeads: 16,
  headDim: 72,
  intermediateSize: 4304,
  posEmbHeight: 64,
  posEmbWidth: 64,
  mergeKernel: [2, 2],
};
const TEXT_HIDDEN = 2048;
const GRIDS: Grid[] = [{ h: 40, w: 40 }];

/** Random bf16 weights with the engine names; linear weights scaled 1/√K so activations stay O(1). */
function randomHostWeights(seed: number): Map<string, HostWeight> {
  const D = VISION.hiddenSize;
  const I = VISION.intermediateSize;
  const P = 3 * VISION.patchSize ** 2;
  const M = 4 * D;
  const host = new Map<string, HostWeight>();
  let s = seed;
  const add = (name: string, shape: number[], scale: number, offset = 0) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const v = randn(n, s++, scale);
    if (offset) for (let i = 0; i < n; i++) v[i]! += offset;
    host.set(name, encodeWeight(v, shape, 'bf16'));
  };
  const linear = (name: string, n: number, k: number) => {
    add(`${name}.weight`, [n, k], 1 / Math.sqrt(k));
    add(`${name}.bias`, [n], 0.02);
  };
  const norm = (name: string, d: number) => {
    add(`${name}.weight`, [d], 0.1, 1);
    add(`${name}.bias`, [d], 0.1);
  };
  linear('vision.patch_embed', D, P);
  add('vision.pos_emb', [VISION.posEmbHeight, VISION.posEmbWidth, D], 0.5);
  norm('vision.blocks.0.norm0', D);
  linear('vision.blocks.0.qkv', 3 * D, D);
  linear('vision.blocks.0.out', D, D);
  norm('vision.blocks.0.norm1', D);
  linear('vision.blocks.0.fc0', I, D);
  linear('vision.blocks.0.fc1', D, I);
  norm('vision.final_norm', D);
  norm('projector.pre_norm', D);
  linear('projector.linear1', M, M);
  linear('projector.linear2', TEXT_HIDDEN, M);
  return host;
}

function run(k: VisionKernels, host: Map<string, HostWeight>, pixels: Float32Array) {
  const cfg = { vision: VISION, text: { hiddenSize: TEXT_HIDDEN } } as Parameters<typeof loadProjectorWeights>[2];
  const vw = loadVisionWeights(k, host, VISION);
  const pw = loadProjectorWeights(k, host, cfg);
  const L = pixels.length / (3 * VISION.patchSize ** 2);
  const x = k.upload(pixels, [L, 3 * VISION.patchSize ** 2]);
  const visionOut = encodeImages(k, vw, VISION, x, GRIDS);
  const features = project(k, pw, cfg, visionOut, GRIDS);
  k.flush();
  return { visionOut, features };
}

describe('REAL SIZES: one MoonViT block + projector, WebGPU vs reference (slow)', () => {
  test('40×40 patches, D 1152, 16×72 heads, MLP 4304, 4608 → 2048, bf16 weights', async () => {
    const seed = 20250;
    const host = randomHostWeights(seed);
    const L = GRIDS[0]!.h * GRIDS[0]!.w;
    const pixels = randn(L * 588, seed - 1);

    const rt = await testRuntime();
    const t0 = performance.now();
    const gpu = run({ ...createGpuCoreOps(rt), ...createGpuVisionOps(rt) }, host, pixels);
    const t1 = performance.now();
    const ref = run({ ...createRefCoreOps(), ...createRefVisionOps() }, host, pixels);
    const refOut = (ref.visionOut as unknown as { data: Float32Array }).data;
    const t2 = performance.now();
    const gotOut = await rt.read(gpu.visionOut as never);
    const gotFeat = await rt.read(gpu.features as never);
    const t3 = performance.now();

    const errOut = nmse(gotOut, refOut);
    const errFeat = nmse(gotFeat, (ref.features as unknown as { data: Float32Array }).data);
    console.log(
      `[real dims] seed ${seed} L=${L}: NMSE vision_out ${errOut.toExponential(2)}, image_features ${errFeat.toExponential(2)}; ` +
        `record ${(t1 - t0).toFixed(0)} ms, reference ${((t2 - t1) / 1000).toFixed(1)} s, GPU wait after ref ${((t3 - t2) / 1000).toFixed(1)} s`,
    );
    expect(gpu.features.shape).toEqual([L / 4, TEXT_HIDDEN]);
    // Matmul/attention class bound (design.md): NMSE ≤ 5e-4.
    expect(errOut, `seed ${seed}: vision_tower_out NMSE`).toBeLessThanOrEqual(5e-4);
    expect(errFeat, `seed ${seed}: image_features NMSE`).toBeLessThanOrEqual(5e-4);
  });
});
