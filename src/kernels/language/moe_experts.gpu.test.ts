// moeExperts on the GPU vs moeExpertsRef: NMSE (matmul class) on the dequantised weights, expert ids as
// the router would give them (distinct per token), decode and prefill, one and many tiles per expert;
// the prefill in both forms (rt.tuning.moePrefill: the rows kernel and the tiled GEMM, every tile shape
// and tile precision forced, so a CPU adapter tests what GPUs run); and with the addend [T, D] the combine
// adds (the shared experts' output), at decode and prefill in both forms.
import { describe, expect } from 'vitest';
import type { GpuRuntime } from '../../gpu/runtime.ts';
import type { GpuTensor } from '../../gpu/tensor.ts';
import { f16BitsToF32, f32ToF16Bits } from '../../tensor/half.ts';
import type { HostWeight, WeightDType } from '../../tensor/types.ts';
import { encodeWeight, randn } from '../../testing/random.ts';
import { type GemmLanes, type GemmTile, tileDims, tileLanes } from '../core/matmul_tiling.ts';
import { hostWeightToF32 } from '../ref_tensor.ts';
import { type CaseGpu, kernelTests, nmseBelow } from '../testing.ts';
import { moeExpertsRef } from './moe_experts.ref.ts';
import { moeExperts } from './moe_experts.ts';

// [T, A, D, I, E, dtype]
const EXPERTS: Array<[number, number, number, number, number, WeightDType]> = [
  [1, 1, 1, 1, 1, 'f32'],
  [3, 2, 5, 7, 4, 'f32'],
  [40, 3, 33, 17, 8, 'bf16'], // > TM slots per expert: several tiles of one expert
  [7, 2, 96, 24, 8, 'q8'],
  [5, 2, 64, 40, 6, 'q4'],
  [1, 2, 2048, 1408, 3, 'bf16'], // real D and I, decode (A and E small: SwiftShader time)
  [17, 6, 128, 1408, 64, 'bf16'], // 64 experts, real width, prefill
];

/** Distinct experts per token, deterministic from the seed. */
function expertIds(T: number, A: number, E: number, seed: number): Uint32Array {
  // distinct experts per token: top-A of fewer than A experts would never finish choosing
  if (A > E) throw new Error(`test shape: top-${A} of ${E} experts`);
  const idv = new Uint32Array(T * A);
  for (let t = 0; t < T; t++)
    for (let a = 0; a < A; a++)
      idv[t * A + a] =
        (t * 5 + a * 3 + seed) % E === 0 && a > 0 ? (a * 7 + t) % E : (t * 5 + a * 3 + seed) % E;
  for (let t = 0; t < T; t++) {
    const used = new Set<number>();
    for (let a = 0; a < A; a++) {
      let e = idv[t * A + a]!;
      while (used.has(e)) e = (e + 1) % E;
      used.add(e);
      idv[t * A + a] = e;
    }
  }
  return idv;
}

type Shape = [number, number, number, number, number, WeightDType];
interface Inputs {
  x: Float32Array;
  ids: Uint32Array;
  weights: Float32Array;
  gate: HostWeight;
  up: HostWeight;
  down: HostWeight;
}

function inputsOf([T, A, D, I, E, dtype]: Shape, seed: number): Inputs {
  const w = (s: number, shape: number[], fanIn: number) =>
    encodeWeight(randn(shape[0]! * shape[1]! * shape[2]!, s, 1 / Math.sqrt(fanIn)), shape, dtype);
  return {
    x: randn(T * D, seed),
    ids: expertIds(T, A, E, seed),
    weights: randn(T * A, seed + 1),
    gate: w(seed + 2, [E, I, D], D),
    up: w(seed + 3, [E, I, D], D),
    down: w(seed + 4, [E, D, I], I),
  };
}

function runOn(g: CaseGpu, inp: Inputs, [T, A, D]: Shape, addend?: Float32Array) {
  const { x, ids, weights, gate, up, down } = inp;
  const [tg, tu, td] = [gate, up, down].map((h) => g.uploadWeight(h)) as [GpuTensor, GpuTensor, GpuTensor];
  const add = addend && g.upload(addend, [T, D]);
  return moeExperts(
    g.rt,
    g.upload(x, [T, D]),
    g.upload(ids, [T, A]),
    g.upload(weights, [T, A]),
    tg,
    tu,
    td,
    add,
  );
}

const roundF16 = (v: number) => f16BitsToF32(f32ToF16Bits(v));

/** The reference; with f16 staging, x, the weights and the hidden rounded to f16 where the GEMM stages them. */
function refOf(inp: Inputs, [T, A, D, I]: Shape, f16 = false, addend?: Float32Array): Float32Array {
  const [wg, wu, wd] = [inp.gate, inp.up, inp.down].map((h) => {
    const v = hostWeightToF32(h);
    return f16 ? v.map(roundF16) : v;
  }) as [Float32Array, Float32Array, Float32Array];
  const stage = f16 ? roundF16 : undefined;
  return moeExpertsRef(inp.x, inp.ids, inp.weights, wg, wu, wd, T, A, D, I, stage, addend);
}

describe('moeExperts on the GPU vs moeExpertsRef', () => {
  kernelTests({
    op: 'moeExperts',
    cases: EXPERTS,
    name: ([T, A, D, I, E, dtype]) => `T=${T} A=${A} D=${D} I=${I} E=${E} ${dtype}`,
    seed: ([T, A, D, I, E]) => T * 31 + A * 7 + D + I + E,
    inputs: (c, seed) => inputsOf(c, seed),
    run: (g, inp, c) => {
      g.rt.tuning.moePrefill = 'rows';
      return runOn(g, inp, c);
    },
    ref: (inp, c) => refOf(inp, c),
    // matmul class (NMSE ≤ 5e-4); same dequantised weights on both sides, so far tighter in practice
    metric: nmseBelow(1e-6),
  });
});

interface TiledCase {
  shape: Shape;
  tile: GemmTile | 'auto';
  tiles: 'f32' | 'f16';
  /** Lanes per tile (matmul_tiling.ts); absent: many, the GPU layout ('auto' tiles: the runtime's choice). */
  lanes?: GemmLanes;
}

// Prefill shapes for the tiled GEMM: slots per expert below, at and past a 64/128-row tile, odd D and I
// (16-bit weights element by element), and the real expert config in two halves with the tile chosen
// as the runtime does ('auto'): the real widths (D 2048, I 1408) over 2 experts, and the real routing
// (64 experts, top-6) at small widths. SwiftShader runs the tiled GEMM at ~0.1 GFLOP/s and every routed
// expert costs a whole row tile: the whole config took minutes a case, 8 real-width experts 144 s.
const TILED_SHAPES: Shape[] = [
  [5, 2, 33, 17, 3, 'f32'],
  [140, 2, 64, 40, 2, 'bf16'], // 140 slots per expert: several 64- and 128-row tiles of one expert
  [70, 2, 36, 31, 4, 'f16'],
  [50, 4, 96, 64, 8, 'q8'],
  [60, 2, 64, 72, 3, 'q4'],
];
const TILED: TiledCase[] = [
  ...(['64x64', '128x64', '128x128', '32x64', '32x128'] as const).flatMap((tile) =>
    (['f32', 'f16'] as const).flatMap((tiles) => TILED_SHAPES.map((shape) => ({ shape, tile, tiles }))),
  ),
  // few lanes (CPU adapters: f32 tiles), the tiles their 'auto' picks
  ...(['32x128', '128x128'] as const).flatMap((tile) =>
    TILED_SHAPES.map((shape): TiledCase => ({ shape, tile, tiles: 'f32', lanes: 'few' })),
  ),
  { shape: [6, 2, 2048, 1408, 2, 'q4'], tile: 'auto', tiles: 'f32' },
  { shape: [40, 6, 64, 48, 64, 'q8'], tile: 'auto', tiles: 'f16' },
  { shape: [240, 2, 64, 40, 4, 'bf16'], tile: 'auto', tiles: 'f32' }, // ~120 slots an expert: 128x128
];

function force(rt: GpuRuntime, c: TiledCase): void {
  rt.tuning.moePrefill = 'tiled';
  rt.tuning.matmulTile = c.tile;
  rt.tuning.matmulTiles = c.tiles;
  rt.tuning.matmulLanes = c.tile === 'auto' ? 'auto' : (c.lanes ?? 'many');
}

describe('moeExperts prefill by the tiled GEMM (every forced variant) vs moeExpertsRef', () => {
  kernelTests({
    op: 'moeExperts',
    cases: TILED,
    name: ({ shape: [T, A, D, I, E, dtype], tile, tiles, lanes }) =>
      `tiled ${tile}${lanes ? ` ${lanes} lanes` : ''} ${tiles} tiles T=${T} A=${A} D=${D} I=${I} E=${E} ${dtype}`,
    seed: ({ shape: [T, A, D, I, E], tile, lanes }) =>
      T * 31 + A * 7 + D + I + E + tile.length + (lanes ? 5 : 0),
    inputs: (c, seed) => inputsOf(c.shape, seed),
    run: (g, inp, c) => {
      force(g.rt, c);
      return runOn(g, inp, c.shape);
    },
    // f32 tiles: the same dequantised weights on both sides, f32 vs f64 accumulation (quantised class).
    // f16 tiles: against the reference with x, weights and hidden rounded to f16 as staged: the same bound.
    ref: (inp, c) => refOf(inp, c.shape, c.tiles === 'f16'),
    metric: nmseBelow(1e-6),
    check: (_, g, __, c) => {
      const lanes = c.tile === 'auto' ? 0 : tileLanes(c.tile, c.lanes ?? 'many');
      const mvnv =
        c.tile === 'auto'
          ? ''
          : `LANES=${lanes},MV=${tileDims(c.tile).bm / (4 * (lanes / 16))},NV=${tileDims(c.tile).bn / 64}`;
      const ran = (k: string) =>
        k.startsWith('matmul_tiled_moe|') && k.includes(`TILES_F16=${c.tiles === 'f16'}`) && k.includes(mvnv);
      expect(g.rt.pipelines.keys().some(ran), 'the forced tiled variant ran').toBe(true);
    },
  });
});

// The addend path: decode (the model's T = 1 step, real D and I), prefill by the rows kernel and by the
// tiled GEMM, and a single value. The addend is of the output's size, so a missed add fails the NMSE.
const ADDEND: Array<{ shape: Shape; prefill: 'rows' | 'tiled' }> = [
  { shape: [1, 1, 1, 1, 1, 'f32'], prefill: 'rows' },
  { shape: [1, 2, 2048, 1408, 3, 'bf16'], prefill: 'rows' },
  { shape: [1, 3, 65, 33, 5, 'q4'], prefill: 'rows' },
  { shape: [7, 2, 96, 24, 8, 'q8'], prefill: 'rows' },
  { shape: [70, 2, 36, 31, 4, 'f16'], prefill: 'tiled' },
];

describe('moeExperts with an addend (the shared experts) vs moeExpertsRef', () => {
  kernelTests({
    op: 'moeExperts',
    cases: ADDEND,
    name: ({ shape: [T, A, D, I, E, dtype], prefill }) =>
      `addend T=${T} A=${A} D=${D} I=${I} E=${E} ${dtype}${T > 1 ? ` ${prefill}` : ''}`,
    seed: ({ shape: [T, A, D, I, E] }) => T * 37 + A * 5 + D + I + E,
    inputs: ({ shape }, seed) => ({ ...inputsOf(shape, seed), addend: randn(shape[0] * shape[2], seed + 9) }),
    run: (g, inp, c) => {
      g.rt.tuning.moePrefill = c.prefill;
      g.rt.tuning.matmulTiles = 'f32';
      return runOn(g, inp, c.shape, inp.addend);
    },
    ref: (inp, c) => refOf(inp, c.shape, false, inp.addend),
    // as above: matmul class, same dequantised weights on both sides (f32 tiles)
    metric: nmseBelow(1e-6),
  });
});

// moePrefill 'auto' (CPU adapters' default, moe_experts_tiled.ts) at both sides of its slots-per-expert
// threshold, fresh runtime per case so the pipeline cache shows which kernel ran.
describe("moeExperts prefill 'auto': tiled from AUTO_TILED_MOE_FROM slots an expert, rows below", () => {
  const autoCases: Array<{ shape: Shape; want: 'tiled' | 'rows' }> = [
    { shape: [3, 2, 64, 40, 2, 'q4'], want: 'rows' }, // 3 slots an expert
    { shape: [4, 2, 64, 40, 2, 'q4'], want: 'tiled' }, // 4
    { shape: [11, 6, 96, 24, 16, 'bf16'], want: 'tiled' }, // ~4.1
    { shape: [64, 2, 33, 17, 4, 'f32'], want: 'rows' }, // f32 stacks stay on the rows kernel
  ];
  kernelTests({
    op: 'moeExperts',
    cases: autoCases,
    name: ({ shape: [T, A, D, I, E, dtype], want }) =>
      `auto T=${T} A=${A} D=${D} I=${I} E=${E} ${dtype} → ${want}`,
    runtime: () => ({}),
    seed: ({ shape: [T, A, D, I, E] }) => T * 13 + A * 3 + D + I + E,
    inputs: (c, seed) => inputsOf(c.shape, seed),
    run: (g, inp, c) => {
      g.rt.tuning.moePrefill = 'auto';
      g.rt.tuning.matmulTiles = 'f32';
      return runOn(g, inp, c.shape);
    },
    ref: (inp, c) => refOf(inp, c.shape),
    metric: nmseBelow(1e-6),
    check: (_, g, __, c) => {
      const ops = g.rt.pipelines.keys().map((key) => key.split('|')[0]);
      const [ran, not] =
        c.want === 'tiled' ? ['matmul_tiled_moe', 'moe_experts_mm'] : ['moe_experts_mm', 'matmul_tiled_moe'];
      expect(ops).toContain(ran);
      expect(ops).not.toContain(not);
    },
  });
});
