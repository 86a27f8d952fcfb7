// The tiled GEMM's variant rules: every tile shape fits the WebGPU default of 16 KiB workgroup memory
// (many lanes: both buffers, at most one staging unit per lane; few lanes: one buffer) and divides the kvq1
// block; few lanes give each lane 16 rows; 'auto' picks by shape.
import { describe, expect, it } from 'vitest';
import { autoMoeTile } from '../language/moe_experts_tiled.ts';
import {
  autoTile,
  chunkFor,
  GEMM_TILES,
  gemmWorkgroupBytes,
  tileBuffers,
  tileDims,
  tileLanes,
} from './matmul_tiling.ts';

const DEFAULT_LIMIT = 16384; // maxComputeWorkgroupStorageSize every WebGPU adapter offers

describe('tiled GEMM variants', () => {
  it.each(
    GEMM_TILES.flatMap((tile) => (['f32', 'f16', 'f16-packed'] as const).map((t) => [tile, t] as const)),
  )('%s %s: chunk within the limit, one unit per lane, divides 32', (tile, tiles) => {
    const kc = chunkFor(tile, tiles, DEFAULT_LIMIT);
    const { bm, bn } = tileDims(tile);
    expect(gemmWorkgroupBytes(tile, tiles, kc)).toBeLessThanOrEqual(DEFAULT_LIMIT);
    expect(((bm + bn) * kc) / 16).toBeLessThanOrEqual(tileLanes(tile));
    expect(32 % kc).toBe(0);
    expect(kc % 4).toBe(0);
  });

  it('chunks as the header says: 128x128 f32 8, f16 16; 64x64 f32 16, f16 32', () => {
    expect(chunkFor('128x128', 'f32', DEFAULT_LIMIT)).toBe(8);
    expect(chunkFor('128x128', 'f16', DEFAULT_LIMIT)).toBe(16);
    expect(chunkFor('64x64', 'f32', DEFAULT_LIMIT)).toBe(16);
    expect(chunkFor('64x64', 'f16-packed', DEFAULT_LIMIT)).toBe(32);
    expect(chunkFor('128x64', 'f32', 32768)).toBe(16); // a larger limit takes longer chunks
    expect(chunkFor('32x64', 'f32', DEFAULT_LIMIT)).toBe(16); // 96 · 16 / 16 = 96 units ≤ 128 lanes
    expect(tileLanes('32x64')).toBe(128);
    expect(tileLanes('64x64')).toBe(256);
    expect(chunkFor('32x128', 'f32', DEFAULT_LIMIT)).toBe(8); // 160 · 8 / 16 = 80 units ≤ 128 lanes
  });

  it.each(
    GEMM_TILES.flatMap((tile) => (['f32', 'f16', 'f16-packed'] as const).map((t) => [tile, t] as const)),
  )('few lanes, %s %s: 16 rows a lane, one buffer within the limit, chunk divides 32', (tile, tiles) => {
    const { bm, bn } = tileDims(tile);
    const lanes = tileLanes(tile, 'few');
    expect(lanes).toBe(bm);
    expect((bm / (lanes / 16)) % 16).toBe(0); // MV = 4: 16 rows per lane
    expect(bn % 64).toBe(0);
    const kc = chunkFor(tile, tiles, DEFAULT_LIMIT, 'few');
    expect(gemmWorkgroupBytes(tile, tiles, kc, tileBuffers('few'))).toBeLessThanOrEqual(DEFAULT_LIMIT);
    expect(32 % kc).toBe(0);
  });

  it('few lanes take the longest chunk one buffer holds: 32x128 f32 32 at 32 KiB, 16 at 16 KiB', () => {
    expect(chunkFor('32x128', 'f32', 32768, 'few')).toBe(32); // 160 · 32 · 4 = 20 KiB
    expect(chunkFor('32x128', 'f32', DEFAULT_LIMIT, 'few')).toBe(16);
    expect(chunkFor('128x128', 'f32', 32768, 'few')).toBe(32); // exactly 32 KiB
    expect(chunkFor('128x128', 'f32', 32768 - 1024, 'few')).toBe(16); // beside the MoE slot list
    expect(chunkFor('128x128', 'f32', 32768, 'many')).toBe(16); // two buffers
  });

  it('auto tiles: 32x64 to M = 32, 64x64 to 64, 128 rows beyond, 128 columns while ≥ 64 workgroups remain', () => {
    expect(autoTile(2, 11264)).toBe('32x64');
    expect(autoTile(32, 1408)).toBe('32x64'); // 22 workgroups, as many as 64x64, no rows past M
    expect(autoTile(33, 1408)).toBe('64x64');
    expect(autoTile(64, 4096)).toBe('64x64');
    expect(autoTile(1332, 1408)).toBe('128x128'); // 11 × 11 = 121 workgroups
    expect(autoTile(129, 1408)).toBe('128x64'); // 2 × 11 = 22 at 128 columns
    expect(autoTile(129, 1408, true)).toBe('128x128'); // a CPU adapter: no GPU to fill
    expect(autoTile(64, 1408, true)).toBe('64x64');
    expect(autoTile(32, 1408, true)).toBe('32x128'); // 11 workgroups: a few cores to fill
    expect(autoMoeTile(256 * 6, 64)).toBe('64x64'); // 24 slots per expert
    expect(autoMoeTile(1332 * 6, 64)).toBe('128x128'); // 125 per expert
    expect(autoMoeTile(256 * 6, 64, true)).toBe('32x128'); // CPU adapter: 24 per expert fit 32 rows
    expect(autoMoeTile(40 * 64, 64, true)).toBe('64x64'); // 40 per expert
  });
});
