import { describe, expect, it } from 'vitest';
import { GOLDEN_MODELS } from '../golden/location.ts';
import { f16BitsToF32, f32ToBf16Bits, widenToF32 } from '../tensor/half.ts';
import { dequantize, QUANT_BLOCK, type QuantType, quantize, quantLayout } from '../tensor/quant_format.ts';
import { encodeWeight, randu } from '../testing/random.ts';
import { loadHostWeights } from './node_source.ts';
import { quantizationError, quantizeStacked, toF16 } from './quantize_weights.ts';

const GOLDEN = GOLDEN_MODELS;

/** Deterministic pseudo-random bf16 weights, with a spread of magnitudes (every 7th value 30× larger). */
function bf16Weights(n: number, seed: number): Uint8Array {
  const u = randu(n, seed, 0.5);
  for (let i = 0; i < n; i++) u[i]! *= i % 7 === 0 ? 3 : 0.1;
  return encodeWeight(u, [n], 'bf16').bytes;
}

/** Per-block bound: q8 half a step, q4 one step (top clamp), plus the f16 rounding of the scale. */
function checkBlockBound(q: QuantType, x: Float32Array, blob: Uint8Array, shape: number[]) {
  const L = quantLayout(q, shape);
  const back = dequantize(q, blob, shape);
  const scales = new DataView(blob.buffer, blob.byteOffset + L.scaleOffset);
  for (let r = 0; r < L.rows; r++)
    for (let b = 0; b < L.blocksPerRow; b++) {
      const d = Math.abs(f16BitsToF32(scales.getUint16((r * L.blocksPerRow + b) * 2, true)));
      let amax = 0;
      let err = 0;
      for (let j = b * QUANT_BLOCK; j < Math.min(L.k, (b + 1) * QUANT_BLOCK); j++) {
        amax = Math.max(amax, Math.abs(x[r * L.k + j]!));
        err = Math.max(err, Math.abs(back[r * L.k + j]! - x[r * L.k + j]!));
      }
      expect(err).toBeLessThanOrEqual((q === 'q8' ? d / 2 : d) + amax * 2 ** -10 + 1e-12);
    }
}

describe('quantizeStacked', () => {
  for (const q of ['q8', 'q4'] as const)
    it(`${q}: equals quantising the stacked tensor (K = 45, not a multiple of 32)`, () => {
      const E = 3;
      const per = [5, 45];
      const parts = Array.from({ length: E }, (_, e) => ({
        dtype: 'bf16' as const,
        bytes: bf16Weights(5 * 45, e + 1),
      }));
      const all = new Uint8Array(parts.reduce((a, p) => a + p.bytes.byteLength, 0));
      for (const [e, p] of parts.entries()) all.set(p.bytes, e * p.bytes.byteLength);
      const expected = quantize(q, widenToF32('bf16', all), [E, ...per]);
      expect(Buffer.from(quantizeStacked(q, parts, per)).equals(Buffer.from(expected))).toBe(true);
    });
});

describe('toF16', () => {
  it('converts normal-range bf16 exactly and refuses values f16 cannot hold', () => {
    const bytes = bf16Weights(1000, 7);
    const f = widenToF32('bf16', bytes);
    expect([...widenToF32('f16', toF16('bf16', bytes, 't'))]).toEqual([...f]);
    const big = new Uint8Array(2);
    new DataView(big.buffer).setUint16(0, f32ToBf16Bits(70000), true);
    expect(() => toF16('bf16', big, 'big')).toThrow(/does not fit in f16/);
  });
});

describe.each(['tiny-a', 'tiny-b'])('quantised assembly of %s', (model) => {
  const dir = `${GOLDEN}/${model}`;
  it.each(['q8', 'q4'] as const)(
    '%s: exactly the contract tensors, = quantize(bf16), error within bound',
    async (q) => {
      const ref = await loadHostWeights(dir);
      const w = await loadHostWeights(dir, q);
      const quantised = [...w].filter(([, hw]) => hw.dtype === q).map(([n]) => n);
      const rule =
        /^lm\.(embed|head|layers\.\d+\.(attn\.(q|q_a|q_b|kv_a|kv_b|o)|mlp\.(gate|up|down)|moe\.(experts_\w+|shared_\w+)))$/;
      expect(quantised.sort()).toEqual([...w.keys()].filter((n) => rule.test(n)).sort());
      let worst = { name: '', maxAbs: 0, maxRel: 0, rmsRel: 0 };
      for (const [name, hw] of w) {
        const r = ref.get(name)!;
        if (hw.dtype !== q) {
          expect(hw.dtype, name).toBe(r.dtype);
          expect(Buffer.from(hw.bytes).equals(Buffer.from(r.bytes)), name).toBe(true);
          continue;
        }
        const x = widenToF32('bf16', r.bytes);
        expect(Buffer.from(hw.bytes).equals(Buffer.from(quantize(q, x, hw.shape))), name).toBe(true);
        expect(hw.bytes.byteLength).toBe(quantLayout(q, hw.shape).totalBytes);
        checkBlockBound(q, x, hw.bytes, hw.shape);
        const e = quantizationError(q, x, hw.bytes, hw.shape);
        if (e.rmsRel > worst.rmsRel) worst = { name, ...e };
      }
      // Reported figures (kvq1 on these Gaussian-like weights): q8 ≈ 0.5 %, q4 ≈ 10 % relative RMS.
      console.log(
        `${model} ${q}: worst tensor ${worst.name}: max abs ${worst.maxAbs.toExponential(2)}, max/|x|max ${worst.maxRel.toExponential(2)}, rms rel ${worst.rmsRel.toExponential(2)}`,
      );
      expect(worst.rmsRel).toBeLessThan(q === 'q8' ? 0.01 : 0.15);
    },
  );
});
