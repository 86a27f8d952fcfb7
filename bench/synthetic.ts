// Synthetic weights at real sizes, generated fast (a 671 MB lm_head cannot go through randn + quantize on
// two CPU cores). Values are finite and small in every storage form, which is all a timing needs:
//   f32: uniform ±0.05; f16/bf16: random mantissa and sign, magnitude 2^−7..2^−3;
//   q8/q4: random quants with small f16 scales in the kvq1 layout (src/kernels/quant_format.ts).
import { f32ToF16Bits } from '../src/tensor/half.ts';
import { quantLayout } from '../src/tensor/quant_format.ts';
import type { HostWeight, WeightDType } from '../src/tensor/types.ts';

/** xorshift32 filling whole words. */
function fillRandom(words: Uint32Array, seed: number): void {
  let s = seed >>> 0 || 0x9e3779b9;
  for (let i = 0; i < words.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    words[i] = s >>> 0;
  }
}

/** Bytes a weight [..., K] occupies in its storage form (buffer rounded up to 4 bytes). */
export function weightBytes(dtype: WeightDType, shape: readonly number[]): number {
  if (dtype === 'q8' || dtype === 'q4') return quantLayout(dtype, shape).totalBytes;
  const n = shape.reduce((a, b) => a * b, 1);
  return Math.ceil((n * (dtype === 'f32' ? 4 : 2)) / 4) * 4;
}

export function syntheticWeight(dtype: WeightDType, shape: number[], seed: number): HostWeight {
  const total = weightBytes(dtype, shape);
  const words = new Uint32Array(total / 4);
  fillRandom(words, seed);
  if (dtype === 'f32') {
    const f = new Float32Array(words.buffer);
    for (let i = 0; i < f.length; i++) f[i] = (words[i]! / 4294967296 - 0.5) * 0.1;
  } else if (dtype === 'f16') {
    // per half: sign | exponent 8..11 (2^−7..2^−4) | mantissa
    for (let i = 0; i < words.length; i++) words[i] = (words[i]! & 0x8fff8fff) | 0x20002000;
  } else if (dtype === 'bf16') {
    // per half: sign | exponent 120..123 (2^−7..2^−4) | 7-bit mantissa
    for (let i = 0; i < words.length; i++) words[i] = (words[i]! & 0x81ff81ff) | 0x3c003c00;
  } else {
    const L = quantLayout(dtype, shape);
    const scale = f32ToF16Bits(dtype === 'q8' ? 0.0005 : 0.004); // |w| ≤ 0.064 / 0.032
    const scales = new Uint16Array(words.buffer, L.scaleOffset, L.scaleBytes / 2);
    scales.fill(scale);
  }
  return { dtype, shape, bytes: new Uint8Array(words.buffer) };
}

/** Activations: uniform ±1. */
export function syntheticActivations(n: number, seed: number): Float32Array {
  const w = new Uint32Array(n);
  fillRandom(w, seed);
  const f = new Float32Array(n);
  for (let i = 0; i < n; i++) f[i] = w[i]! / 2147483648 - 1;
  return f;
}
