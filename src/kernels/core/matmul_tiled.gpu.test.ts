// The tiled GEMM (shaders/matmul_tiled.wgsl), every variant forced through rt.tuning so a CPU adapter
// tests the kernels GPUs run: tiles 64×64 / 128×64 / 128×128 / 32×64 / 32×128, many lanes (GPUs:
// double-buffered) and few (CPU adapters: 16-row blocks per lane, one buffer staged by every lane), staged
// f32 / f16 (native with shader-f16, packed two per u32 without), every weight form, M, N, K off the tile
// and the kvq1 block, and the real prefill shapes.
//
// Tolerances:
//  - f32 tiles vs matmulRef on the dequantised weights: NMSE < 1e-6 (same weights both sides, f32 vs f64
//    accumulation only: the quantised-matmul class).
//  - f16 tiles stage x and the dequantised w rounded to f16, then accumulate in f32. Against matmulRef on
//    the f16-rounded x and w: NMSE < 1e-6 (only accumulation and the GPU's choice of rounding direction
//    for an inexact conversion differ). Against the unrounded reference: the matmul class, NMSE < 5e-4.
import { describe, expect } from 'vitest';
import { testRuntime } from '../../gpu/testing.ts';
import { f16BitsToF32, f32ToF16Bits } from '../../tensor/half.ts';
import type { HostWeight, WeightDType } from '../../tensor/types.ts';
import { encodeWeight, randn } from '../../testing/random.ts';
import { uploadWeightRows } from '../parts_upload.ts';
import { hostWeightToF32 } from '../ref_tensor.ts';
import { type CaseGpu, compare, kernelTests, nmseBelow } from '../testing.ts';
import { matmulRef } from './matmul.ref.ts';
import { matmul } from './matmul.ts';
import {
  GEMM_LANES,
  GEMM_TILES,
  type GemmLanes,
  type GemmTile,
  tileDims,
  tileLanes,
} from './matmul_tiling.ts';

const roundF16 = (v: Float32Array) => v.map((x) => f16BitsToF32(f32ToF16Bits(x)));

type Tiles = 'f32' | 'f16';
interface Case {
  tile: GemmTile;
  /** Lanes per tile; absent: many (the GPU layout). */
  lanes?: GemmLanes;
  tiles: Tiles;
  dtype: WeightDType;
  m: number;
  k: number;
  n: number;
  native?: boolean;
  /** Weight uploaded in output-row parts of this many rows (src/gpu/parted_tensor.ts). */
  partRows?: number;
}

// [M, K, N] off every multiple: M = 2, 17, 129 (one row past a 128 tile), odd and even K off 4 and 32.
const AWKWARD: Array<[number, number, number]> = [
  [2, 5, 3],
  [17, 70, 65],
  [129, 37, 130],
  [66, 96, 129],
];
const DTYPES: WeightDType[] = ['f32', 'f16', 'bf16', 'q8', 'q4'];

const hasShaderF16 = (await testRuntime()).features.shaderF16;

// Few lanes are what CPU adapters run, with f32 tiles (no shader-f16 there): f16 tiles with few lanes get
// the real-shape case below (each variant's first case pays its pipeline compile, ~4 s on SwiftShader).
const awkward: Case[] = GEMM_LANES.flatMap((lanes) =>
  GEMM_TILES.flatMap((tile) =>
    (lanes === 'few' ? (['f32'] as const) : (['f32', 'f16'] as const)).flatMap((tiles) =>
      DTYPES.flatMap((dtype) => AWKWARD.map(([m, k, n]) => ({ tile, lanes, tiles, dtype, m, k, n }))),
    ),
  ),
);
// Real Kimi-VL widths (K and N) at a tile-straddling M: an expert-width projection in q4, the dense
// FFN's 2048 → 11264, the vision MLP. M only repeats row tiles, and SwiftShader pays for every padded row
// (M = 1,332 and 129 at 128-row tiles took 54–117 s a case), so M stays one or two tiles.
const real: Case[] = [
  { tile: '128x128', tiles: 'f16', dtype: 'q4', m: 130, k: 2048, n: 1408 },
  { tile: '128x64', tiles: 'f32', dtype: 'q4', m: 130, k: 2048, n: 1408 },
  { tile: '64x64', tiles: 'f32', dtype: 'q8', m: 17, k: 2048, n: 11264 },
  { tile: '64x64', tiles: 'f16', dtype: 'bf16', m: 33, k: 1152, n: 4304 },
  { tile: '32x64', tiles: 'f32', dtype: 'q4', m: 33, k: 2048, n: 1408 },
  { tile: '32x64', tiles: 'f16', dtype: 'q8', m: 32, k: 1152, n: 4304 },
  // few lanes: what a CPU adapter runs (32×128 to M = 32, 128×128 beyond)
  { tile: '32x128', lanes: 'few', tiles: 'f32', dtype: 'q4', m: 33, k: 2048, n: 1408 },
  { tile: '32x128', lanes: 'few', tiles: 'f16', dtype: 'q8', m: 32, k: 1152, n: 4304 },
  { tile: '128x128', lanes: 'few', tiles: 'f32', dtype: 'f16', m: 20, k: 1152, n: 4304 },
];
// A weight in output-row parts (one dispatch per part at its column offset): parts that straddle the
// 64- and 128-wide column tiles, a last part of 60 rows.
const inParts: Case[] = [
  { tile: '128x128', tiles: 'f16', dtype: 'q4', m: 130, k: 64, n: 200, partRows: 70 },
  { tile: '128x64', tiles: 'f32', dtype: 'bf16', m: 67, k: 100, n: 200, partRows: 70 },
  { tile: '32x64', tiles: 'f16', dtype: 'f16', m: 40, k: 96, n: 200, partRows: 70 },
  { tile: '32x128', lanes: 'few', tiles: 'f32', dtype: 'bf16', m: 40, k: 96, n: 200, partRows: 70 },
];

interface Inputs {
  x: Float32Array;
  host: HostWeight;
  bias?: Float32Array;
}

function runCase(g: CaseGpu, { x, host, bias }: Inputs, c: Case) {
  g.rt.tuning.matmul = 'tiled';
  g.rt.tuning.matmulTile = c.tile;
  g.rt.tuning.matmulLanes = c.lanes ?? 'many';
  g.rt.tuning.matmulTiles = c.tiles;
  const w = c.partRows ? uploadWeightRows(g.rt, host, c.partRows) : g.uploadWeight(host);
  if (c.partRows && 'parts' in w) {
    for (const p of w.parts) g.own(p.tensor);
    expect(w.parts.length).toBe(Math.ceil(c.n / c.partRows));
  }
  return matmul(g.rt, g.upload(x, [c.m, c.k]), w, bias && g.upload(bias, [c.n]));
}

/** Whether the pipeline cache holds the tiled GEMM built for this case's variant. */
function ranVariant(g: CaseGpu, c: Case, extra = ''): boolean {
  const { bm, bn } = tileDims(c.tile);
  const lanes = tileLanes(c.tile, c.lanes ?? 'many');
  const mv = bm / (4 * (lanes / 16)); // rows per lane's sub-blocks: BM = 4 · (lanes / 16) · MV
  return g.rt.pipelines
    .keys()
    .some(
      (key) =>
        key.startsWith('matmul_tiled|') &&
        key.includes(`TILES_F16=${c.tiles === 'f16'}`) &&
        key.includes(`LANES=${lanes},MV=${mv},NV=${bn / 64}`) &&
        key.includes(`STAGE_ALL=${c.lanes === 'few'}`) &&
        key.includes(extra),
    );
}

describe('tiled GEMM, every forced variant, vs matmulRef', () => {
  kernelTests({
    op: 'matmul',
    cases: [...awkward, ...real, ...inParts],
    name: ({ tile, lanes, tiles, dtype, m, k, n, partRows }) =>
      `tiled ${tile} ${lanes ?? 'many'} lanes ${tiles} tiles ${dtype} M=${m} K=${k} N=${n}${partRows ? ` in parts of ${partRows} rows` : ''}`,
    seed: ({ m, k, n, tile, lanes }) =>
      m * 1_000_003 + k * 1009 + n + tile.length + (lanes === 'few' ? 7 : 0),
    inputs: ({ dtype, m, k, n }, seed): Inputs => ({
      x: randn(m * k, seed),
      host: encodeWeight(randn(n * k, seed + 1, 0.05), [n, k], dtype),
      bias: seed % 2 ? randn(n, seed + 2) : undefined,
    }),
    run: runCase,
    ref: ({ x, host, bias }, { tiles, m, k, n }) => {
      const w = hostWeightToF32(host);
      return tiles === 'f16'
        ? matmulRef(roundF16(x), roundF16(w), m, k, n, bias)
        : matmulRef(x, w, m, k, n, bias);
    },
    metric: nmseBelow(1e-6),
    check: (got, g, { x, host, bias }, c) => {
      expect(ranVariant(g, c), 'the forced tiled variant ran').toBe(true);
      if (c.tiles === 'f16') {
        const exact = matmulRef(x, hostWeightToF32(host), c.m, c.k, c.n, bias);
        const r = compare(got, exact, nmseBelow(5e-4));
        expect(r.pass, `f16 tiles vs the unrounded reference: ${r.text}`).toBe(true);
      }
    },
  });
});

describe('f16 tiles: native vec4<f16> with shader-f16, packed in u32 without', () => {
  kernelTests({
    op: 'matmul',
    cases: [true, false].map(
      (native): Case => ({ tile: '128x64', tiles: 'f16', dtype: 'q8', m: 70, k: 100, n: 67, native }),
    ),
    name: (c) => `f16 tiles ${c.native ? 'native (shader-f16)' : 'packed (shader-f16 disabled)'}`,
    skip: (c) => !!c.native && !hasShaderF16 && 'the adapter has no shader-f16 (SwiftShader)',
    runtime: (c) => (c.native ? {} : { disableFeatures: ['shaderF16'] }),
    seed: () => 11,
    inputs: ({ m, k, n, dtype }, seed): Inputs => ({
      x: randn(m * k, seed),
      host: encodeWeight(randn(n * k, seed + 1, 0.05), [n, k], dtype),
    }),
    run: runCase,
    ref: ({ x, host }, { m, k, n }) => matmulRef(roundF16(x), roundF16(hostWeightToF32(host)), m, k, n),
    metric: nmseBelow(1e-6),
    check: (_, g, __, c) => {
      expect(ranVariant(g, c, `NATIVE_F16=${!!c.native}`)).toBe(true);
    },
  });
});
