// mlaAttention with an un-roped q (qRope: q_pe roped inside attention, in the absorb pass) on the GPU vs
// ropeRef then mlaAttentionRef: every route the facade takes. Decode through mlaDecode in each cache
// variant the adapter runs (f32 / f16 packed × subgroups on/off), a cache in position parts, dims
// mlaDecode does not fit (the absorbed three-pass form at T = 1), a prefill in the absorbed form (the
// absorb pass ropes row t at pos0 + t) and in the flash form (roped by a rope dispatch first); plain and
// YaRN frequencies (the table's attnFactor included), pos0 = 0 and deep, the real Kimi-VL dims. Guards.
import { describe } from 'vitest';
import { type PartedTensor, partsOf } from '../../gpu/parted_tensor.ts';
import { testRuntime } from '../../gpu/testing.ts';
import type { WeightDType } from '../../tensor/types.ts';
import { encodeWeight, randn } from '../../testing/random.ts';
import { parted } from '../parts_upload.ts';
import { hostWeightToF32 } from '../ref_tensor.ts';
import { type CaseGpu, kernelTests, nmseBelow } from '../testing.ts';
import type { MlaDims, QRope } from '../types.ts';
import { qRopeOptions } from './language_shapes.ts';
import { mlaAttentionRef } from './mla_attention.ref.ts';
import { mlaAttention } from './mla_attention.ts';
import { type LatentCacheRead, mlaDecode } from './mla_decode.ts';
import { mlaPrefill } from './mla_prefill.ts';
import { ropeRef } from './rope.ref.ts';

/** decode: mlaDecode forced to a variant; absorbed: mlaAttention's three passes; flash: mlaPrefill. */
type Route = 'decode' | 'absorbed' | 'flash';
interface Case {
  route: Route;
  T: number;
  pos0: number;
  heads: number;
  nope: number;
  rope: number;
  v: number;
  rank: number;
  kvB: WeightDType;
  yarn: boolean;
  cache: LatentCacheRead;
  subgroups: boolean;
  /** Cache part rows (0: one buffer). */
  partRows: number;
}

const base: Case = {
  route: 'decode',
  T: 1,
  pos0: 0,
  heads: 3,
  nope: 8,
  rope: 16,
  v: 12,
  rank: 24,
  kvB: 'bf16',
  yarn: false,
  cache: 'f32',
  subgroups: false,
  partRows: 0,
};
const REAL = { heads: 16, nope: 128, rope: 64, v: 128, rank: 512 };
const c = (more: Partial<Case>): Case => ({ ...base, ...more });

const DECODE_SHAPES: Case[] = [
  c({}),
  c({ pos0: 37, yarn: true }),
  c({ pos0: 300, heads: 17, kvB: 'q8' }), // a second head group
  c({ pos0: 129, partRows: 50 }), // a cache in 3 position parts
  c({ heads: 1, nope: 2, rope: 2, v: 1, rank: 2, pos0: 5 }), // one rope pair
  c({ ...REAL, pos0: 1023, kvB: 'q4' }),
  c({ ...REAL, pos0: 4000, yarn: true }),
];
const CASES: Case[] = [
  ...(['f32', 'f16-packed'] as const).flatMap((cache) =>
    [false, true].flatMap((subgroups) => DECODE_SHAPES.map((s) => ({ ...s, cache, subgroups }))),
  ),
  c({ route: 'absorbed', rank: 600, pos0: 20 }), // R > mlaDecode's 512: the three-pass form at T = 1
  c({ route: 'absorbed', T: 5, pos0: 3, yarn: true }),
  c({ route: 'absorbed', T: 17, ...REAL, kvB: 'q4' }),
  c({ route: 'flash', T: 7, pos0: 4, nope: 16, rope: 8, v: 16, yarn: true }),
  c({ route: 'flash', T: 17, pos0: 0, ...REAL }),
];

const { features } = await testRuntime();

const dims = (x: Case): MlaDims => ({
  heads: x.heads,
  qkNope: x.nope,
  qkRope: x.rope,
  v: x.v,
  kvRank: x.rank,
  scale: (x.nope + x.rope) ** -0.5,
});
const qRopeOf = (x: Case): QRope => ({
  theta: 10000,
  ...(x.yarn ? { yarn: { factor: 4, low: 2, high: 12, attnFactor: 1.07 } } : {}),
});
const ctxOf = (x: Case) => x.pos0 + x.T + 3; // rows past the visible keys must not be read

function cacheTensor(g: CaseGpu, x: Case, values: Float32Array) {
  const W = x.rank + x.rope;
  const f16 = x.cache !== 'f32';
  const make = (start: number, n: number) => {
    const rows = values.subarray(start * W, (start + n) * W);
    return f16 ? g.uploadWeight(encodeWeight(rows, [n, W], 'f16')) : g.upload(rows, [n, W]);
  };
  if (!x.partRows) return make(0, ctxOf(x));
  const p: PartedTensor = parted(
    [ctxOf(x), W],
    f16 ? 'f16' : 'f32',
    x.partRows,
    Math.ceil(ctxOf(x) / x.partRows),
    make,
  );
  if (partsOf(p).length < 2) throw new Error('the case meant a cache in parts');
  return p;
}

describe('mlaAttention with q roped inside (qRope) vs ropeRef + mlaAttentionRef', () => {
  kernelTests({
    op: 'mlaAttention(qRope)',
    cases: CASES,
    name: (x) =>
      `${x.route}${x.route === 'decode' ? ` ${x.cache} ${x.subgroups ? 'subgroups' : 'workgroup-memory'}` : ''} ` +
      `T=${x.T} pos0=${x.pos0} H=${x.heads} N=${x.nope} P=${x.rope} V=${x.v} R=${x.rank} ${x.kvB}` +
      `${x.yarn ? ' yarn' : ''}${x.partRows ? ` parts of ${x.partRows}` : ''}`,
    seed: (x) => x.T * 7919 + x.pos0 * 31 + x.heads * 7 + x.rank + (x.yarn ? 1 : 0),
    skip: (x) => (x.subgroups && !features.subgroups ? 'the adapter has no subgroups' : false),
    inputs: (x, seed) => {
      const cache = randn(ctxOf(x) * (x.rank + x.rope), seed + 2);
      const seen =
        x.cache === 'f32' ? cache : hostWeightToF32(encodeWeight(cache, [ctxOf(x), x.rank + x.rope], 'f16'));
      return {
        q: randn(x.T * x.heads * (x.nope + x.rope), seed),
        kvB: encodeWeight(
          randn(x.heads * (x.nope + x.v) * x.rank, seed + 1, 0.1),
          [x.heads * (x.nope + x.v), x.rank],
          x.kvB,
        ),
        cache,
        seen,
      };
    },
    run: (g, { q, kvB, cache }, x) => {
      const tq = g.upload(q, [x.T, x.heads * (x.nope + x.rope)]);
      const [tk, tc, d, qRope] = [
        g.uploadWeight(kvB),
        cacheTensor(g, x, cache),
        dims(x),
        qRopeOf(x),
      ] as const;
      g.rt.tuning.attentionTiles = 'f32';
      g.rt.tuning.mlaPrefill = 'flash';
      if (x.route === 'flash') return mlaPrefill(g.rt, tq, tk, tc, x.pos0, d, qRope);
      if (x.route === 'absorbed') {
        g.rt.tuning.mlaPrefill = 'absorbed';
        const o = mlaAttention(g.rt, tq, tk, tc, x.pos0, d, qRope);
        g.rt.tuning.mlaPrefill = 'flash';
        return o;
      }
      const variant = { subgroups: x.subgroups, cache: x.cache };
      return mlaDecode(g.rt, tq, tk, tc, x.pos0, d, { variant, qRope });
    },
    ref: ({ q, kvB, seen }, x) => {
      const roped = ropeRef(q, x.T, x.heads * (x.nope + x.rope), qRopeOptions(dims(x), x.pos0, qRopeOf(x)));
      return mlaAttentionRef(roped, hostWeightToF32(kvB), seen, x.T, x.pos0, dims(x));
    },
    // attention class: NMSE ≤ 5e-4; both sides see the same (rounded) cache and dequantised kv_b and the
    // rope uses the same f64-built table values, so only f32 vs f64 accumulation differs: 1e-6
    metric: nmseBelow(1e-6),
  });
});
