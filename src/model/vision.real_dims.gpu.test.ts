// REAL-SIZE TEST (slow): one MoonViT block + final norm + the projector at the real Kimi-VL sizes (D 1152,
// 16 heads × 72, MLP 4304, merged 4608 → 2048) with random bf16 weights. The GPU runs the model code on
// every patch; the reference (vision_real_dims_ref.ts: ref kernels, f64) runs every patch through patch
// embed, position table and qkv (all feed K and V) but queries, MLP and projector only for sampled merged
// tokens (4 patches each): the full reference on 24×24 patches would be ~16 G multiply-adds of JS.
import { describe, expect, test } from 'vitest';
import { testRuntime } from '../gpu/testing.ts';
import { createGpuCoreOps } from '../kernels/core/gpu_core_ops.ts';
import { matmulRef } from '../kernels/core/matmul.ref.ts';
import { type Comparison, compare, nmseAtMost } from '../kernels/testing.ts';
import type { Grid } from '../kernels/types.ts';
import { createGpuVisionOps } from '../kernels/vision/gpu_vision_ops.ts';
import { mulberry32, randn } from '../testing/random.ts';
import {
  matmulRefBlocked,
  PROJ_CFG,
  pickRows,
  randomHostWeights,
  referenceSample,
  TEXT_HIDDEN,
  VISION,
} from '../testing/vision_real_dims_ref.ts';
import { loadProjectorWeights, project, releaseProjectorWeights } from './projector.ts';
import { encodeImages, loadVisionWeights, releaseVisionWeights, type VisionKernels } from './vision.ts';

/**
 * Runs the model code on the GPU over a whole grid×grid image, and the reference for the sampled merged
 * tokens; returns both comparisons, NMSE ≤ 5e-4 (the matmul/attention class bound, design.md). The GPU
 * work is submitted before the reference starts.
 */
async function compareOnImage(
  side: number,
  sample: number,
  seed: number,
): Promise<{ errOut: Comparison; errFeat: Comparison }> {
  const grids: Grid[] = [{ h: side, w: side }];
  const host = randomHostWeights(seed);
  const L = side * side;
  const half = side / 2;
  const pixels = randn(L * 588, seed - 1);
  // Merged tokens (row, col): the four corners and the centre, then a seeded scatter (≤ all tokens).
  const want = Math.min(sample, half * half);
  const seen = new Set<string>();
  const tokens: Array<[number, number]> = [];
  const addToken = (t: [number, number]) => {
    if (tokens.length < want && !seen.has(`${t}`)) {
      seen.add(`${t}`);
      tokens.push(t);
    }
  };
  for (const t of [
    [0, 0],
    [0, half - 1],
    [half - 1, 0],
    [half - 1, half - 1],
    [half >> 1, half >> 1],
  ] as Array<[number, number]>)
    addToken(t);
  const r = mulberry32(seed);
  while (tokens.length < want) addToken([Math.floor(r() * half), Math.floor(r() * half)]);

  const rt = await testRuntime();
  const g: VisionKernels = { ...createGpuCoreOps(rt), ...createGpuVisionOps(rt) };
  const t0 = performance.now();
  const gvw = loadVisionWeights(g, host, VISION);
  const gpw = loadProjectorWeights(g, host, PROJ_CFG);
  const gpx = g.upload(pixels, [L, 588]);
  const gOut = encodeImages(g, gvw, VISION, gpx, grids);
  const gFeat = project(g, gpw, PROJ_CFG, gOut, grids);
  g.flush();
  const t1 = performance.now();
  const ref = referenceSample(grids, host, pixels, tokens);
  const t2 = performance.now();
  const gotOut = await g.read(gOut);
  const gotFeat = await g.read(gFeat);
  const t3 = performance.now();
  releaseVisionWeights(g, gvw);
  releaseProjectorWeights(g, gpw);
  g.release(gpx, gOut, gFeat);

  expect(gFeat.shape).toEqual([L / 4, TEXT_HIDDEN]);
  const errOut = compare(pickRows(gotOut, ref.rows, VISION.hiddenSize), ref.visionOut, nmseAtMost(5e-4));
  const merged = tokens.map(([tr, tc]) => tr * half + tc);
  const errFeat = compare(pickRows(gotFeat, merged, TEXT_HIDDEN), ref.features, nmseAtMost(5e-4));
  console.log(
    `[real dims] ${side}×${side} patches, seed ${seed}, ${tokens.length} merged tokens checked: NMSE vision_tower_out ` +
      `${errOut.value.toExponential(2)}, image_features ${errFeat.value.toExponential(2)}; record ${(t1 - t0).toFixed(0)} ms, ` +
      `reference ${((t2 - t1) / 1000).toFixed(1)} s, GPU wait after it ${((t3 - t2) / 1000).toFixed(1)} s`,
  );
  return { errOut, errFeat };
}

// The 24×24 image (576 patches: nine 64-row attention and matmul tiles, 144 merged tokens) is ~16 G
// multiply-adds: over a minute on SwiftShader, milliseconds on a GPU. It was 40×40 (~45 G, 4+ minutes of
// CI); the grid adds no code path past a few tiles. The 4×4 case checks the same widths quickly.

describe('REAL SIZES: one MoonViT block + projector, WebGPU vs reference (slow)', () => {
  // Bit identity (toEqual: -0 and +0 differ too), stricter than the harness's exact metric.
  test('the blocked reference matmul is bit-identical to matmulRef', () => {
    for (const [m, k, n] of [
      [1, 5, 3],
      [6, 33, 7],
      [9, 64, 5],
    ] as const) {
      const x = randn(m * k, m);
      const w = randn(n * k, k);
      const bias = randn(n, n);
      expect(Array.from(matmulRefBlocked(x, w, m, k, n, bias))).toEqual(
        Array.from(matmulRef(x, w, m, k, n, bias)),
      );
      expect(Array.from(matmulRefBlocked(x, w, m, k, n))).toEqual(Array.from(matmulRef(x, w, m, k, n)));
    }
  });

  test('real widths on a 4×4 image (3 of 4 merged tokens sampled), bf16 weights', async () => {
    const { errOut, errFeat } = await compareOnImage(4, 3, 20251);
    expect(errOut.pass, `seed 20251: vision_tower_out ${errOut.text}`).toBe(true);
    expect(errFeat.pass, `seed 20251: image_features ${errFeat.text}`).toBe(true);
  });

  test('24×24 patches (16 sampled merged tokens), bf16 weights', async () => {
    const { errOut, errFeat } = await compareOnImage(24, 16, 20250);
    expect(errOut.pass, `seed 20250: vision_tower_out ${errOut.text}`).toBe(true);
    expect(errFeat.pass, `seed 20250: image_features ${errFeat.text}`).toBe(true);
  });
});
