// The language references against independent formulations: HF's de-interleave + rotate_half RoPE,
// naive (decompressed) MLA, a brute-force grouped router, and sampler properties.
import { describe, expect, it } from 'vitest';
import { mulberry32, randu } from '../../testing/random.ts';
import { nmse } from '../testing.ts';
import { mlaAttentionRef } from './mla_attention.ref.ts';
import { moeExpertsRef } from './moe_experts.ref.ts';
import { moeRouteRef } from './moe_route.ref.ts';
import { uniformForStep } from './rng.ts';
import { ropeInvFreq, ropeRef, ropeYarnFromConfig } from './rope.ref.ts';
import { applyRepetitionPenalty, nucleusMask, sampleRef } from './sample.ref.ts';

describe('rope', () => {
  it('gives the same q·k as HF de-interleave + rotate_half', () => {
    const P = 16;
    const theta = 800000;
    const q = randu(P, 1);
    const kk = randu(P, 2);
    const hf = (x: Float32Array, pos: number) => {
      // x' = [x0, x2, …, x1, x3, …]; out = x'·cos + rotate_half(x')·sin with emb = cat(freqs, freqs)
      const xp = [
        ...Array.from({ length: P / 2 }, (_, i) => x[2 * i]!),
        ...Array.from({ length: P / 2 }, (_, i) => x[2 * i + 1]!),
      ];
      return xp.map((v, j) => {
        const f = pos * theta ** (-(2 * (j % (P / 2))) / P);
        const rot = j < P / 2 ? -xp[j + P / 2]! : xp[j - P / 2]!;
        return v * Math.cos(f) + rot * Math.sin(f);
      });
    };
    for (const [pq, pk] of [
      [5, 3],
      [17, 0],
      [1000, 999],
    ] as const) {
      const opts = { heads: 1, headStride: P, offset: 0, ropeDim: P, theta };
      const a = ropeRef(q, 1, P, { ...opts, pos0: pq });
      const b = ropeRef(kk, 1, P, { ...opts, pos0: pk });
      const dot = a.reduce((s, v, i) => s + v * b[i]!, 0);
      const qh = hf(q, pq);
      const kh = hf(kk, pk);
      const dotHf = qh.reduce((s, v, i) => s + v * kh[i]!, 0);
      expect(Math.abs(dot - dotHf)).toBeLessThan(1e-5);
    }
  });
  it('touches only the rope slice of each head', () => {
    const x = randu(2 * 3 * 10, 3);
    const y = ropeRef(x, 2, 30, { heads: 3, headStride: 10, offset: 4, ropeDim: 6, theta: 10000, pos0: 7 });
    for (let t = 0; t < 2; t++)
      for (let h = 0; h < 3; h++)
        for (let i = 0; i < 4; i++) expect(y[t * 30 + h * 10 + i]).toBe(x[t * 30 + h * 10 + i]);
    // position 0 is the identity
    const z = ropeRef(x, 1, 30, { heads: 3, headStride: 10, offset: 4, ropeDim: 6, theta: 10000, pos0: 0 });
    expect(Array.from(z.subarray(0, 30))).toEqual(Array.from(x.subarray(0, 30)));
  });
  it('YaRN frequencies follow DeepSeek-V3 (high frequencies kept, low ones divided by factor)', () => {
    const s = {
      type: 'yarn' as const,
      factor: 40,
      originalMaxPositionEmbeddings: 4096,
      betaFast: 32,
      betaSlow: 1,
      mscale: 1,
      mscaleAllDim: 1,
    };
    const y = ropeYarnFromConfig(s, 64, 10000);
    expect(y.low).toBe(10); // floor(64·ln(4096/(32·2π)) / (2 ln 10000)) = floor(10.39)
    expect(y.high).toBe(23); // ceil(22.43)
    expect(y.attnFactor).toBe(1);
    expect(ropeInvFreq(0, 64, 10000, y)).toBe(1);
    expect(ropeInvFreq(31, 64, 10000, y)).toBeCloseTo(10000 ** (-62 / 64) / 40, 15);
  });
});

describe('mlaAttention (absorbed) vs naive decompressed attention', () => {
  it('matches on random data with pos0 > 0', () => {
    const d = { heads: 3, qkNope: 5, qkRope: 4, v: 6, kvRank: 7, scale: 0.3 };
    const T = 4;
    const pos0 = 3;
    const ctx = 9;
    const q = randu(T * d.heads * 9, 10);
    const kvB = randu(d.heads * 11 * 7, 11);
    const cache = randu(ctx * 11, 12);
    const got = mlaAttentionRef(q, kvB, cache, T, pos0, d);
    // naive: k_nope[j,h] = W_UK[h] c_j, v[j,h] = W_UV[h] c_j; scores over [k_nope | k_pe]
    const exp = new Float32Array(T * d.heads * d.v);
    for (let t = 0; t < T; t++)
      for (let h = 0; h < d.heads; h++) {
        const n = pos0 + t + 1;
        const s: number[] = [];
        const vs: number[][] = [];
        for (let j = 0; j < n; j++) {
          const c = cache.subarray(j * 11, j * 11 + 7);
          const row = (r: number) =>
            kvB.subarray((h * 11 + r) * 7, (h * 11 + r + 1) * 7).reduce((a, w, i) => a + w * c[i]!, 0);
          let acc = 0;
          for (let i = 0; i < 5; i++) acc += q[t * 27 + h * 9 + i]! * row(i);
          for (let p = 0; p < 4; p++) acc += q[t * 27 + h * 9 + 5 + p]! * cache[j * 11 + 7 + p]!;
          s.push(acc * d.scale);
          vs.push(Array.from({ length: 6 }, (_, i) => row(5 + i)));
        }
        const m = Math.max(...s);
        const e = s.map((v) => Math.exp(v - m));
        const z = e.reduce((a, b) => a + b, 0);
        for (let i = 0; i < 6; i++)
          exp[t * 18 + h * 6 + i] = e.reduce((a, p, j) => a + (p / z) * vs[j]![i]!, 0);
      }
    expect(nmse(got, exp)).toBeLessThan(1e-12);
  });
});

describe('moeRoute', () => {
  // Brute force straight from the README: enumerate every kept-group set, then every expert.
  function bruteForce(s: number[], bias: number[], topK: number, nGroup: number, topkGroup: number) {
    const E = s.length;
    const per = E / nGroup;
    const choice = s.map((v, e) => v + bias[e]!);
    const gScore = Array.from({ length: nGroup }, (_, g) => {
      const v = choice.slice(g * per, (g + 1) * per).sort((a, b) => b - a);
      return v[0]! + v[1]!;
    });
    const keptGroups = gScore
      .map((v, g) => ({ v, g }))
      .sort((a, b) => b.v - a.v || a.g - b.g)
      .slice(0, topkGroup)
      .map((x) => x.g);
    const masked = choice.map((v, e) => (keptGroups.includes(Math.floor(e / per)) ? v : 0));
    const ids: number[] = [];
    for (let a = 0; a < topK; a++) {
      let best = -1;
      for (let e = 0; e < E; e++) if (!ids.includes(e) && (best < 0 || masked[e]! > masked[best]!)) best = e;
      ids.push(best);
    }
    return ids;
  }

  it('grouped selection (n_group 4, topk_group 2, top 3) matches brute force; weights normalised and scaled', () => {
    const E = 16;
    const D = 12;
    const T = 40;
    const cfg = { topK: 3, nGroup: 4, topkGroup: 2, normTopkProb: true, routedScalingFactor: 2.5 };
    const x = randu(T * D, 21);
    const gate = randu(E * D, 22);
    const bias = randu(E, 23, 0.3);
    const r = moeRouteRef(x, gate, bias, T, D, cfg);
    let differsFromUngrouped = 0;
    for (let t = 0; t < T; t++) {
      const s = Array.from({ length: E }, (_, e) => {
        let acc = 0;
        for (let i = 0; i < D; i++) acc += x[t * D + i]! * gate[e * D + i]!;
        return 1 / (1 + Math.exp(-Math.fround(acc)));
      });
      const exp = bruteForce(s, Array.from(bias), 3, 4, 2);
      const got = Array.from(r.ids.subarray(t * 3, t * 3 + 3));
      expect(got, `token ${t}`).toEqual(exp);
      if (bruteForce(s, Array.from(bias), 3, 1, 1).join() !== exp.join()) differsFromUngrouped++;
      const w = exp.map((e) => s[e]!);
      const sum = w.reduce((a, b) => a + b, 0);
      w.forEach((v, a) => {
        expect(r.weights[t * 3 + a]).toBeCloseTo((v / sum) * 2.5, 6);
      });
    }
    // the grouping must actually change some decisions, or this test would not test it
    expect(differsFromUngrouped).toBeGreaterThan(0);
  });
});

describe('moeExperts', () => {
  it('equals a weighted sum of per-expert SwiGLUs', () => {
    const [E, I, D, T, A] = [5, 7, 6, 3, 2];
    const x = randu(T * D, 31);
    const g = randu(E * I * D, 32);
    const u = randu(E * I * D, 33);
    const dn = randu(E * D * I, 34);
    const ids = Uint32Array.from([4, 0, 2, 2, 1, 3]);
    const w = Float32Array.from([0.7, 0.3, 1, 0.5, 0.25, 2]);
    const y = moeExpertsRef(x, ids, w, g, u, dn, T, A, D, I);
    for (let t = 0; t < T; t++)
      for (let i = 0; i < D; i++) {
        let exp = 0;
        for (let a = 0; a < A; a++) {
          const e = ids[t * A + a]!;
          let o = 0;
          for (let j = 0; j < I; j++) {
            let gg = 0;
            let uu = 0;
            for (let p = 0; p < D; p++) {
              gg += x[t * D + p]! * g[(e * I + j) * D + p]!;
              uu += x[t * D + p]! * u[(e * I + j) * D + p]!;
            }
            o += (gg / (1 + Math.exp(-gg))) * uu * dn[(e * D + i) * I + j]!;
          }
          exp += w[t * A + a]! * o;
        }
        expect(y[t * D + i]).toBeCloseTo(exp, 5);
      }
  });
});

describe('sampler', () => {
  const P = { temperature: 0.8, topK: 0, topP: 1, repetitionPenalty: 1, seed: 7 };
  it('greedy picks the lowest index among ties', () => {
    const l = Float32Array.from([1, 3, 2, 3]);
    expect(sampleRef(l, null, { ...P, temperature: 0 }, 0)).toBe(1);
  });
  it('repetition penalty divides positive and multiplies negative logits, once per id', () => {
    const l = applyRepetitionPenalty(Float32Array.from([2, -2, 1]), [0, 1, 0, 9], 2);
    expect(Array.from(l)).toEqual([1, -4, 1]);
    expect(
      sampleRef(
        Float32Array.from([2, 1.5]),
        Uint32Array.of(0),
        { ...P, temperature: 0, repetitionPenalty: 2 },
        0,
      ),
    ).toBe(1);
  });
  it('top-k and top-p keep the expected sets', () => {
    const e = Float64Array.from([0.1, 0.4, 0.2, 0.3]);
    expect(Array.from(nucleusMask(e, 2, 1))).toEqual([0, 1, 0, 1]);
    expect(Array.from(nucleusMask(e, 0, 0.5))).toEqual([0, 1, 0, 1]); // 0.4 < 0.5 → 0.3 kept, then 0.7 ≥ 0.5
    expect(Array.from(nucleusMask(e, 0, 0.4))).toEqual([0, 1, 0, 0]);
    expect(Array.from(nucleusMask(e, 0, 0.05))).toEqual([0, 1, 0, 0]); // the top token always survives
  });
  it('is deterministic per (seed, step) and follows the distribution', () => {
    const logits = Float32Array.from([0, Math.log(3), Math.log(6)]); // p = 0.1, 0.3, 0.6
    const counts = [0, 0, 0];
    for (let s = 0; s < 4000; s++) counts[sampleRef(logits, null, { ...P, temperature: 1 }, s)]!++;
    expect(counts[0]! / 4000).toBeCloseTo(0.1, 1);
    expect(counts[2]! / 4000).toBeCloseTo(0.6, 1);
    expect(sampleRef(logits, null, { ...P, temperature: 1 }, 5)).toBe(
      sampleRef(logits, null, { ...P, temperature: 1 }, 5),
    );
    const u = new Set(Array.from({ length: 100 }, (_, i) => uniformForStep(3, i)));
    expect(u.size).toBe(100);
    const r = mulberry32(1);
    expect(r()).not.toBe(r());
  });
});
