// Kernels on tensors held in parts (src/gpu/parted_tensor.ts) vs the same *.ref.ts oracles on the whole
// tensor: matmul by output rows (matvec, tiled, direct; every weight form), the embedding gather by vocab
// rows, moeExperts by expert ranges, kvCacheWrite and mlaAttention over a cache in position parts.
// Awkward shapes: parts that do not divide the rows, a last part of one row, ids in the last part only.
// Guard words after every output; tolerances as the whole-tensor tests of each op.
import { describe, expect } from 'vitest';
import type { PartedTensor } from '../gpu/parted_tensor.ts';
import type { WeightDType } from '../tensor/types.ts';
import { encodeWeight, randn } from '../testing/random.ts';
import { embeddingRef } from './core/gather.ref.ts';
import { embedding } from './core/gather.ts';
import { matmulRef } from './core/matmul.ref.ts';
import { matmul } from './core/matmul.ts';
import { kvCacheWriteRef } from './language/kv_cache_write.ref.ts';
import { kvCacheWrite } from './language/kv_cache_write.ts';
import { mlaAttentionRef } from './language/mla_attention.ref.ts';
import { mlaAttention } from './language/mla_attention.ts';
import { moeExpertsRef } from './language/moe_experts.ref.ts';
import { moeExperts } from './language/moe_experts.ts';
import { parted, uploadWeightRows } from './parts_upload.ts';
import { hostWeightToF32 } from './ref_tensor.ts';
import { type CaseGpu, exact, kernelTests, nmseBelow } from './testing.ts';
import type { MlaDims } from './types.ts';

const DTYPES: WeightDType[] = ['f32', 'f16', 'bf16', 'q8', 'q4'];

/** Every part's buffer freed with the case. */
function owned(g: CaseGpu, t: PartedTensor): PartedTensor {
  for (const p of t.parts) g.own(p.tensor);
  return t;
}

/** f32 data [rows, ...] uploaded in parts of `partRows` rows (a cache the way zerosParts lays it out). */
function uploadRows(g: CaseGpu, data: Float32Array, shape: number[], partRows: number): PartedTensor {
  const width = data.length / shape[0]!;
  const count = Math.ceil(shape[0]! / partRows);
  return owned(
    g,
    parted(shape, 'f32', partRows, count, (start, n) =>
      g.upload(data.subarray(start * width, (start + n) * width), [n, ...shape.slice(1)]),
    ),
  );
}

// [M, K, N, partRows]
const MATMUL: Array<[number, number, number, number]> = [
  [1, 7, 13, 5], // matvec, last part of 3 rows
  [1, 64, 65, 16], // last part of one row
  [5, 31, 33, 11],
  [67, 100, 71, 32], // tiled/direct tiles straddle parts
  [1, 2048, 300, 97],
];

describe('matmul with the weight in output-row parts', () => {
  kernelTests({
    op: 'matmul',
    cases: (['tiled', 'direct'] as const).flatMap((variant) =>
      DTYPES.flatMap((dtype) =>
        MATMUL.filter(([m]) => m > 1 || variant === 'tiled').map((s) => ({ variant, dtype, s })),
      ),
    ),
    name: ({ variant, dtype, s: [m, k, n, r] }) =>
      `${m === 1 ? 'matvec' : variant} ${dtype} M=${m} K=${k} N=${n} in parts of ${r} rows`,
    seed: ({ s: [m, k, n, r] }) => m * 1_000_003 + k * 1009 + n + r,
    inputs: ({ dtype, s: [m, k, n] }, seed) => ({
      x: randn(m * k, seed),
      host: encodeWeight(randn(n * k, seed + 1, 0.05), [n, k], dtype),
      bias: seed % 2 ? randn(n, seed + 2) : undefined,
    }),
    run: (g, { x, host, bias }, { variant, s: [m, k, n, r] }) => {
      g.rt.tuning.matmul = variant;
      const w = owned(g, uploadWeightRows(g.rt, host, r));
      expect(w.parts.length).toBe(Math.ceil(n / r));
      return matmul(g.rt, g.upload(x, [m, k]), w, bias && g.upload(bias, [n]));
    },
    ref: ({ x, host, bias }, { s: [m, k, n] }) => matmulRef(x, hostWeightToF32(host), m, k, n, bias),
    // as the whole-weight test: same weights on both sides, f32 vs f64 accumulation
    metric: nmseBelow(1e-6),
  });
});

// [T, V, D, partRows]
const EMBED: Array<[number, number, number, number]> = [
  [1, 7, 3, 3],
  [9, 100, 33, 23],
  [40, 512, 64, 128],
  [5, 1000, 96, 333], // last part of one row
];

describe('embedding with the table in vocab-row parts', () => {
  kernelTests({
    op: 'embedding',
    cases: DTYPES.flatMap((dtype) => EMBED.map((s) => ({ dtype, s }))),
    name: ({ dtype, s: [T, V, D, r] }) => `${dtype} T=${T} V=${V} D=${D} in parts of ${r} rows`,
    seed: ({ s: [T, V, D, r] }) => T * 7919 + V * 31 + D + r,
    inputs: ({ dtype, s: [T, V, D] }, seed) => {
      // ids in every part, both ends of the vocabulary included
      const ids = Uint32Array.from({ length: T }, (_, t) => (t === 0 ? V - 1 : (t * 7919 + seed) % V));
      return { ids, table: encodeWeight(randn(V * D, seed), [V, D], dtype) };
    },
    run: (g, { ids, table }, { s: [T, , , r] }) =>
      embedding(g.rt, g.upload(ids, [T]), owned(g, uploadWeightRows(g.rt, table, r))),
    ref: ({ ids, table }, { s: [, , D] }) => embeddingRef(ids, hostWeightToF32(table), D),
    metric: exact,
  });
});

// [T, A, D, I, E, expertsPerPart, dtype]
const EXPERTS: Array<[number, number, number, number, number, number, WeightDType]> = [
  [1, 2, 5, 7, 4, 3, 'f32'],
  [40, 3, 33, 17, 8, 3, 'bf16'], // several tiles per expert, parts of 3, 3, 2 experts
  [7, 2, 96, 24, 8, 1, 'q8'], // one expert per part
  [5, 2, 64, 40, 6, 4, 'q4'],
  [3, 2, 64, 32, 8, 5, 'f16'],
];

describe('moeExperts with the expert stacks in expert-range parts', () => {
  kernelTests({
    op: 'moeExperts',
    cases: EXPERTS,
    name: ([T, A, D, I, E, r, dtype]) =>
      `T=${T} A=${A} D=${D} I=${I} E=${E} ${dtype} in parts of ${r} experts`,
    seed: ([T, A, D, I, E, r]) => T * 31 + A * 7 + D + I + E + r,
    inputs: ([T, A, D, I, E, , dtype], seed) => {
      const w = (s: number, shape: number[], fanIn: number) =>
        encodeWeight(randn(shape[0]! * shape[1]! * shape[2]!, s, 1 / Math.sqrt(fanIn)), shape, dtype);
      // distinct experts per token, spread over every part
      const ids = Uint32Array.from(
        { length: T * A },
        (_, i) => (Math.floor(i / A) * 3 + (i % A) * 5 + seed) % E,
      );
      for (let t = 0; t < T; t++)
        if (A > 1 && ids[t * A] === ids[t * A + 1]) ids[t * A + 1] = (ids[t * A + 1]! + 1) % E;
      return {
        x: randn(T * D, seed),
        ids,
        weights: randn(T * A, seed + 1),
        gate: w(seed + 2, [E, I, D], D),
        up: w(seed + 3, [E, I, D], D),
        down: w(seed + 4, [E, D, I], I),
      };
    },
    run: (g, { x, ids, weights, gate, up, down }, [T, A, D, , E, r]) => {
      const [pg, pu, pd] = [gate, up, down].map((h) => owned(g, uploadWeightRows(g.rt, h, r)));
      expect(pg!.parts.length).toBe(Math.ceil(E / r));
      const xs = g.upload(x, [T, D]);
      return moeExperts(g.rt, xs, g.upload(ids, [T, A]), g.upload(weights, [T, A]), pg!, pu!, pd!);
    },
    ref: ({ x, ids, weights, gate, up, down }, [T, A, D, I]) => {
      const [wg, wu, wd] = [gate, up, down].map(hostWeightToF32) as [
        Float32Array,
        Float32Array,
        Float32Array,
      ];
      return moeExpertsRef(x, ids, weights, wg, wu, wd, T, A, D, I);
    },
    // matmul class; same dequantised weights on both sides, so far tighter (as the whole-stack test)
    metric: nmseBelow(1e-6),
  });
});

// [T, R, P, ctx, pos0, partRows]
const KV_WRITE: Array<[number, number, number, number, number, number]> = [
  [5, 24, 16, 9, 2, 4], // the write spans parts 0, 1 and 2
  [17, 32, 8, 40, 0, 7],
  [1, 24, 16, 40, 39, 13], // the last row, in a last part of one row
];

describe('kvCacheWrite into a cache in position parts', () => {
  kernelTests({
    op: 'kvCacheWrite',
    cases: KV_WRITE,
    name: ([T, R, P, ctx, pos0, r]) => `T=${T} R=${R} P=${P} ctx=${ctx} pos0=${pos0} in parts of ${r}`,
    seed: ([T, R, P, , pos0, r]) => T * 13 + R + P + pos0 + r,
    inputs: ([T, R, P, ctx], seed) => ({
      before: randn(ctx * (R + P), seed),
      c: randn(T * R, seed + 1),
      kPe: randn(T * P, seed + 2),
    }),
    run: (g, { before, c, kPe }, [T, R, P, ctx, pos0, r]) => {
      const cache = uploadRows(g, before, [ctx, R + P], r);
      kvCacheWrite(g.rt, cache, g.upload(c, [T, R]), g.upload(kPe, [T, P]), pos0);
      return Object.fromEntries(cache.parts.map((p) => [`part${p.start}`, p.tensor]));
    },
    ref: ({ before, c, kPe }, [T, R, P, ctx, pos0, r]) => {
      const want = Float32Array.from(before);
      kvCacheWriteRef(want, c, kPe, T, R, P, pos0);
      const W = R + P;
      const out: Record<string, Float32Array> = {};
      for (let s = 0; s < ctx; s += r) out[`part${s}`] = want.subarray(s * W, Math.min(ctx, s + r) * W);
      return out;
    },
    metric: exact,
  });
});

// [T, pos0, ctx, heads, nope, rope, v, rank, partRows]
const MLA: Array<[number, number, number, number, number, number, number, number, number]> = [
  [1, 0, 1, 1, 1, 2, 1, 1, 1],
  [3, 2, 7, 2, 5, 4, 3, 7, 2], // prefill over 3 parts, causal
  [7, 61, 100, 4, 8, 16, 12, 24, 30], // a part spans two online-softmax rounds; the last part is unseen
  [1, 130, 131, 6, 8, 16, 12, 24, 64],
  [1, 600, 601, 3, 8, 16, 12, 24, 97],
  [17, 0, 40, 16, 128, 64, 128, 512, 5], // real sizes, prefill, parts past the queries unread
];

const dims = (c: (typeof MLA)[number]): MlaDims => ({
  heads: c[3],
  qkNope: c[4],
  qkRope: c[5],
  v: c[6],
  kvRank: c[7],
  scale: (c[4] + c[5]) ** -0.5,
});

describe('mlaAttention over a cache in position parts', () => {
  kernelTests({
    op: 'mlaAttention',
    cases: MLA,
    name: ([T, pos0, ctx, heads, nope, rope, v, rank, r]) =>
      `T=${T} pos0=${pos0} ctx=${ctx} H=${heads} nope=${nope} rope=${rope} v=${v} R=${rank} in parts of ${r}`,
    seed: ([T, pos0, , heads, , , , rank, r]) => T * 100_003 + pos0 * 101 + heads * 7 + rank + r,
    inputs: ([T, , ctx, heads, nope, rope, v, rank], seed) => ({
      q: randn(T * heads * (nope + rope), seed),
      kvB: encodeWeight(randn(heads * (nope + v) * rank, seed + 1, 0.1), [heads * (nope + v), rank], 'bf16'),
      cache: randn(ctx * (rank + rope), seed + 2),
    }),
    run: (g, { q, kvB, cache }, c) => {
      const [T, pos0, ctx, heads, nope, rope, , rank, r] = c;
      const tq = g.upload(q, [T, heads * (nope + rope)]);
      const parts = uploadRows(g, cache, [ctx, rank + rope], r);
      return mlaAttention(g.rt, tq, g.uploadWeight(kvB), parts, pos0, dims(c));
    },
    ref: ({ q, kvB, cache }, c) => mlaAttentionRef(q, hostWeightToF32(kvB), cache, c[0], c[1], dims(c)),
    // attention class (NMSE ≤ 5e-4); the whole-cache test's bound holds for the parts' combine too
    metric: nmseBelow(1e-6),
  });
});
