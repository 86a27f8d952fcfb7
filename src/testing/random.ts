// Seeded test data shared by every test, script and benchmark: one RNG (Mulberry32), normals, uniforms, and
// f32 values encoded as a weight of any storage dtype. Pure TypeScript (no GPU), so Node tests use it too.
import { f32ToBf16Bits, f32ToF16Bits } from '../tensor/half.ts';
import { quantize } from '../tensor/quant_format.ts';
import type { HostWeight, WeightDType } from '../tensor/types.ts';

/** Mulberry32: small, fast, seeded; uniform in [0, 1). The one seeded RNG of the tree. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randn(n: number, seed: number, scale = 1): Float32Array {
  const r = mulberry32(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    // Box–Muller
    const u = Math.max(r(), 1e-12);
    out[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r()) * scale;
  }
  return out;
}

/** Uniform values in [−scale, scale). */
export function randu(n: number, seed: number, scale = 1): Float32Array {
  const r = mulberry32(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (r() * 2 - 1) * scale;
  return out;
}

/** Encodes f32 values as a weight of the given storage dtype (shape [..., K]). */
export function encodeWeight(values: Float32Array, shape: number[], dtype: WeightDType): HostWeight {
  if (dtype === 'q8' || dtype === 'q4') return { dtype, shape, bytes: quantize(dtype, values, shape) };
  if (dtype === 'f32') return { dtype, shape, bytes: new Uint8Array(values.buffer.slice(0)) };
  const bits = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++)
    bits[i] = dtype === 'bf16' ? f32ToBf16Bits(values[i]!) : f32ToF16Bits(values[i]!);
  return { dtype, shape, bytes: new Uint8Array(bits.buffer) };
}

/** Seeded bytes, uniform over 0..255. */
export function randomBytes(n: number, seed: number): Uint8Array {
  const r = mulberry32(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(r() * 256);
  return out;
}
