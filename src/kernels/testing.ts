// Test helpers shared by every kernel test: seeded data, weight encodings, error metrics, guard words.
// Tolerances by op class (design.md): elementwise allclose(atol 1e-6, rtol 1e-5); row reductions
// NMSE ≤ 1e-6; matmul/attention NMSE ≤ 5e-4; quantised matmul vs the reference on dequantised weights
// NMSE ≤ 1e-6; router ids exact.
import { GpuRuntime } from '../gpu/runtime.ts';
import type { GpuTensor } from '../gpu/tensor.ts';
import { f32ToBf16Bits, f32ToF16Bits } from '../tensor/half.ts';
import { quantize } from '../tensor/quant_format.ts';
import type { HostWeight, WeightDType } from '../tensor/types.ts';

export const GUARD_WORD = 0x7fc0dead; // a NaN payload no kernel writes

/** Mulberry32: small, fast, seeded. */
export function rng(seed: number): () => number {
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
  const r = rng(seed);
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
  const r = rng(seed);
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

export function nmse(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < want.length; i++) {
    num += (got[i]! - want[i]!) ** 2;
    den += want[i]! ** 2;
  }
  return den === 0 ? num : num / den;
}

export function maxAbsDiff(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < want.length; i++) m = Math.max(m, Math.abs(got[i]! - want[i]!));
  return m;
}

/** Index of the first element outside allclose(atol, rtol), or −1. */
export function firstMismatch(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  atol: number,
  rtol: number,
): number {
  if (got.length !== want.length) return Math.min(got.length, want.length);
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i]! - want[i]!);
    if (!(d <= atol + rtol * Math.abs(want[i]!))) return i;
  }
  return -1;
}

let shared: Promise<GpuRuntime> | null = null;

/** One runtime per test file, with guard words enabled on pooled buffers. */
export function testRuntime(): Promise<GpuRuntime> {
  shared ??= GpuRuntime.create().then((rt) => {
    rt.pool.guard = { bytes: 64, word: GUARD_WORD };
    return rt;
  });
  return shared;
}

/** Throws if any word after the tensor's data in its pooled buffer was overwritten. */
export async function expectGuardsIntact(rt: GpuRuntime, t: GpuTensor, what: string): Promise<void> {
  const size = t.buffer.size;
  const staging = rt.device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  rt.flush((enc) => enc.copyBufferToBuffer(t.buffer, 0, staging, 0, size));
  await staging.mapAsync(GPUMapMode.READ);
  const words = new Uint32Array(staging.getMappedRange().slice(0));
  staging.destroy();
  for (let i = Math.ceil(t.byteSize / 4); i < words.length; i++) {
    if (words[i] !== GUARD_WORD)
      throw new Error(`${what}: stray write at word ${i} past the output (${t.byteSize} B)`);
  }
}
