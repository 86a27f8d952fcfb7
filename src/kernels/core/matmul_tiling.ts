// Which variant of the tiled GEMM (shaders/common/matmul_tiled_core.wgsl) a call runs: the tile shape
// (rows × columns per workgroup), how many lanes share it, the staged tiles' precision and the k-chunk,
// plus the defines and overrides that build it. Shared by the dense matmul and the grouped MoE prefill.
//
// Forced through rt.tuning (so a CPU adapter runs and tests every variant):
//   matmulTile  'auto' | '64x64' | '128x64' | '128x128' | '32x64' | '32x128'
//   matmulLanes 'auto' | 'many' (GPUs: 256 lanes, 128 for 32-row tiles; blocks up to 8×8; double-buffered)
//               | 'few' (CPU adapters: BM lanes, 16-row blocks per lane; one buffer staged by all lanes)
//   matmulTiles 'f16' (shader-f16: vec4<f16> tiles; without it f16 packed two per u32) | 'f32'
import type { GpuRuntime } from '../../gpu/runtime.ts';
import type { GpuTensor } from '../../gpu/tensor.ts';
import type { WeightDType } from '../../tensor/types.ts';
import { weightAccess } from '../dispatch.ts';

export type GemmTile = '64x64' | '128x64' | '128x128' | '32x64' | '32x128';
export type GemmTiles = 'f32' | 'f16' | 'f16-packed';
export type GemmLanes = 'many' | 'few';

export interface GemmTiling {
  tile: GemmTile;
  /** 'many' (GPUs) or 'few' (CPU adapters): lanes per tile and how the tile is staged (see tileLanes). */
  lanesMode: GemmLanes;
  /** Workgroup size (16 lanes along N, lanes / 16 along M). */
  lanes: number;
  /** vec4 row groups per lane (BM = 4·(lanes / 16)·mv) and column groups (BN = 64·nv). */
  mv: number;
  nv: number;
  /** k per staged chunk. */
  kc: number;
  tiles: GemmTiles;
}

export const GEMM_TILES: readonly GemmTile[] = ['64x64', '128x64', '128x128', '32x64', '32x128'];
export const GEMM_LANES: readonly GemmLanes[] = ['many', 'few'];
const LANES = 256;

/**
 * Lanes of a tile's workgroup. Many: 256, or 128 for 32-row tiles (8 lane rows of 4 rows). Few: one lane
 * row per 16 tile rows (BM lanes), each lane a 16 × (BN / 16) block: a CPU adapter turns every
 * workgroup-memory read into a gather, so it wants the most FMAs per read (16×8: 24 reads per 128 FMAs,
 * 4×4: 8 per 16).
 */
export function tileLanes(tile: GemmTile, mode: GemmLanes = 'many'): number {
  const { bm } = tileDims(tile);
  if (mode === 'few') return bm;
  return bm === 32 ? 128 : LANES;
}

/** Tile buffers: two (double-buffered prefetch) with many lanes, one with few (staged by all lanes). */
export function tileBuffers(mode: GemmLanes): number {
  return mode === 'few' ? 1 : 2;
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
 * A CPU adapter (`cpu`) has a few cores, not a GPU's to fill: 128×128 beyond 64 rows and 32×128 to 32,
 * the most FMAs per staged element and per barrier (SwiftShader, q4 M = 256 2048→1408: 128×128 2.4×
 * faster than 128×64; q4 M = 32 1152→4304 with few lanes: 32×128 1.2× faster than 32×64).
 */
export function autoTile(M: number, N: number, cpu = false): GemmTile {
  if (M <= 32) return cpu ? '32x128' : '32x64';
  if (M <= 64) return '64x64';
  if (cpu) return '128x128';
  return Math.ceil(M / 128) * Math.ceil(N / 128) >= 64 ? '128x128' : '128x64';
}

/** Workgroup bytes of the tile buffers (two unless said). */
export function gemmWorkgroupBytes(tile: GemmTile, tiles: GemmTiles, kc: number, buffers = 2): number {
  const { bm, bn } = tileDims(tile);
  return buffers * (bm + bn) * kc * (tiles === 'f32' ? 4 : 2);
}

/**
 * The largest k-chunk (dividing the 32-wide kvq1 block) whose tile buffers fit the workgroup-memory limit.
 * Many lanes also keep to one staging unit (4 rows × 4 k) per lane: 128×128 f32 → 8, f16 → 16; 64×64 f32
 * → 16. Few lanes stage every unit in a loop, one buffer: 32×128 f32 → 32 at 32 KiB, 16 at 16 KiB.
 */
export function chunkFor(tile: GemmTile, tiles: GemmTiles, limit: number, mode: GemmLanes = 'many'): number {
  const { bm, bn } = tileDims(tile);
  const fits = (kc: number) => gemmWorkgroupBytes(tile, tiles, kc, tileBuffers(mode)) <= limit;
  for (const kc of [32, 16, 8, 4])
    if (fits(kc) && (mode === 'few' || ((bm + bn) * kc) / 16 <= tileLanes(tile))) return kc;
  return 4;
}

/** The lane layout rt.tuning asks for: 'auto' is few lanes on a CPU adapter, many elsewhere. */
export function lanesFor(rt: GpuRuntime): GemmLanes {
  const mode = rt.tuning.matmulLanes;
  if (mode !== 'auto') return mode;
  return rt.info.isFallbackAdapter ? 'few' : 'many';
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
  const lanesMode = lanesFor(rt);
  const limit = rt.device.limits.maxComputeWorkgroupStorageSize - reservedBytes;
  const kc = chunkFor(tile, tiles, limit, lanesMode);
  const lanes = tileLanes(tile, lanesMode);
  return { tile, lanesMode, lanes, mv: bm / (4 * (lanes / 16)), nv: bn / 64, kc, tiles };
}

export function gemmOverrides(t: GemmTiling): Record<string, number> {
  const { bm, bn } = tileDims(t.tile);
  const buffers = tileBuffers(t.lanesMode);
  return {
    MV: t.mv,
    NV: t.nv,
    LANES: t.lanes,
    KC: t.kc,
    XS_VEC4S: (buffers * t.kc * bm) / 4,
    WS_VEC4S: (buffers * t.kc * bn) / 4,
  };
}

/** Defines of the tile precision and the weight's storage form (w_quad: PACKED16 or W_ELEMENTWISE). */
export function gemmDefines(t: GemmTiling, w: GpuTensor): Record<string, boolean> {
  const dtype = w.dtype as WeightDType;
  const K = w.shape[w.shape.length - 1]!;
  const sixteen = dtype === 'f16' || dtype === 'bf16';
  return {
    [weightAccess(w).define]: true,
    // the lane's 4×2 .. 1×1 register sub-blocks (named variables in the shader)
    MV2: t.mv >= 2,
    MV4: t.mv === 4,
    NV2: t.nv === 2,
    STAGE_ALL: t.lanesMode === 'few',
    TILES_F16: t.tiles !== 'f32',
    NATIVE_F16: t.tiles === 'f16',
    // 16-bit pairs straddle rows when K is odd: element by element then, as for f32.
    PACKED16: sixteen && K % 2 === 0,
    W_ELEMENTWISE: dtype === 'f32' || (sixteen && K % 2 === 1),
  };
}

/** "tiled 128x64 f16-packed kc=16 256 lanes": the variant as bench rows and test names print it. */
export function describeTiling(t: GemmTiling): string {
  return `tiled ${t.tile} ${t.tiles} kc=${t.kc} ${t.lanes} lanes`;
}
