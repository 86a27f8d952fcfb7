// Which variant of the tiled GEMM (shaders/common/matmul_tiled_core.wgsl) a call runs: the tile shape
// (rows × columns per workgroup of 256 lanes, 128 for 32x64), the staged tiles' precision and the k-chunk, plus the
// defines and overrides that build it. Shared by the dense matmul and the grouped MoE prefill.
//
// Forced through rt.tuning (so a CPU adapter runs and tests every variant):
//   matmulTile  'auto' | '64x64' | '128x64' | '128x128' | '32x64'
//   matmulTiles 'f16' (shader-f16: vec4<f16> tiles; without it f16 packed two per u32) | 'f32'
import type { GpuRuntime } from '../../gpu/runtime.ts';
import type { GpuTensor } from '../../gpu/tensor.ts';
import type { WeightDType } from '../../tensor/types.ts';
import { weightAccess } from '../dispatch.ts';

export type GemmTile = '64x64' | '128x64' | '128x128' | '32x64';
export type GemmTiles = 'f32' | 'f16' | 'f16-packed';

export interface GemmTiling {
  tile: GemmTile;
  /** Workgroup size: 256, or 128 for the 32-row tile (16 lanes along N, lanes / 16 along M). */
  lanes: number;
  /** vec4 row groups per lane (BM = 4·(lanes / 16)·mv) and column groups (BN = 64·nv). */
  mv: number;
  nv: number;
  /** k per staged chunk. */
  kc: number;
  tiles: GemmTiles;
}

export const GEMM_TILES: readonly GemmTile[] = ['64x64', '128x64', '128x128', '32x64'];
const LANES = 256;

/** Lanes of a tile's workgroup: 256, or 128 for the 32-row tile (8 lane rows of 4 rows). */
export function tileLanes(tile: GemmTile): number {
  return tileDims(tile).bm === 32 ? 128 : LANES;
}

/** Rows and columns of a tile: '128x64' → 128 rows (M) × 64 columns (N). */
export function tileDims(tile: GemmTile): { bm: number; bn: number } {
  const [bm, bn] = tile.split('x').map(Number) as [number, number];
  return { bm, bn };
}

/**
 * The tile for an M × N output when tuning says 'auto': 32 rows while M fits them (a short prompt does
 * not compute 64-row tiles half empty; as many workgroups as 64×64), 64 rows up to 64; 128-row tiles
 * once M fills them, 128 columns when there are still enough workgroups (≥ 64) to fill a GPU, else 64.
 * A CPU adapter (`cpu`) has a few cores, not a GPU's to fill: 128×128 beyond 64 rows, the most FMAs per
 * staged element and per barrier (SwiftShader, q4 M = 256 2048→1408: 2.4× faster than 128×64).
 */
export function autoTile(M: number, N: number, cpu = false): GemmTile {
  if (M <= 32) return '32x64';
  if (M <= 64) return '64x64';
  if (cpu) return '128x128';
  return Math.ceil(M / 128) * Math.ceil(N / 128) >= 64 ? '128x128' : '128x64';
}

/** Workgroup bytes of both tile buffers. */
export function gemmWorkgroupBytes(tile: GemmTile, tiles: GemmTiles, kc: number): number {
  const { bm, bn } = tileDims(tile);
  return 2 * (bm + bn) * kc * (tiles === 'f32' ? 4 : 2);
}

/**
 * The largest k-chunk (dividing the 32-wide kvq1 block) with at most one staging unit (4 rows × 4 k) per
 * lane and both buffers within the workgroup-memory limit: 128×128 f32 → 8, f16 → 16; 64×64 f32 → 16.
 */
export function chunkFor(tile: GemmTile, tiles: GemmTiles, limit: number): number {
  const { bm, bn } = tileDims(tile);
  for (const kc of [32, 16, 8, 4])
    if (((bm + bn) * kc) / 16 <= tileLanes(tile) && gemmWorkgroupBytes(tile, tiles, kc) <= limit) return kc;
  return 4;
}

export function chooseGemmTiling(rt: GpuRuntime, M: number, N: number): GemmTiling {
  const forced = rt.tuning.matmulTile;
  return tilingFor(rt, forced === 'auto' ? autoTile(M, N, rt.info.isFallbackAdapter) : forced);
}

/**
 * A tile shape with the precision rt.tuning asks for and the largest k-chunk the adapter holds beside
 * `reservedBytes` of the kernel's other workgroup memory.
 */
export function tilingFor(rt: GpuRuntime, tile: GemmTile, reservedBytes = 0): GemmTiling {
  const tiles: GemmTiles =
    rt.tuning.matmulTiles === 'f32' ? 'f32' : rt.features.shaderF16 ? 'f16' : 'f16-packed';
  const { bm, bn } = tileDims(tile);
  const kc = chunkFor(tile, tiles, rt.device.limits.maxComputeWorkgroupStorageSize - reservedBytes);
  const lanes = tileLanes(tile);
  return { tile, lanes, mv: bm / (4 * (lanes / 16)), nv: bn / 64, kc, tiles };
}

export function gemmOverrides(t: GemmTiling): Record<string, number> {
  const { bm, bn } = tileDims(t.tile);
  return {
    MV: t.mv,
    NV: t.nv,
    LANES: t.lanes,
    KC: t.kc,
    XS_VEC4S: (2 * t.kc * bm) / 4,
    WS_VEC4S: (2 * t.kc * bn) / 4,
  };
}

/** Defines of the tile precision and the weight's storage form (w_quad: PACKED16 or W_ELEMENTWISE). */
export function gemmDefines(t: GemmTiling, w: GpuTensor): Record<string, boolean> {
  const dtype = w.dtype as WeightDType;
  const K = w.shape[w.shape.length - 1]!;
  const sixteen = dtype === 'f16' || dtype === 'bf16';
  return {
    [weightAccess(w).define]: true,
    // the lane's 2×2, 2×1 or 1×1 register sub-blocks (named variables in the shader)
    MV2: t.mv === 2,
    NV2: t.nv === 2,
    TILES_F16: t.tiles !== 'f32',
    NATIVE_F16: t.tiles === 'f16',
    // 16-bit pairs straddle rows when K is odd: element by element then, as for f32.
    PACKED16: sixteen && K % 2 === 0,
    W_ELEMENTWISE: dtype === 'f32' || (sixteen && K % 2 === 1),
  };
}

/** "tiled 128x64 f16-packed kc=16": the variant as bench rows and test names print it. */
export function describeTiling(t: GemmTiling): string {
  return `tiled ${t.tile} ${t.tiles} kc=${t.kc}`;
}
