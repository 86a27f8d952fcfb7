// Test helpers shared by every kernel test: error metrics, guard words, the test runtime (seeded data and
// weight encodings are in src/testing/random.ts).
// Tolerances by op class (design.md): elementwise allclose(atol 1e-6, rtol 1e-5); row reductions
// NMSE ≤ 1e-6; matmul/attention NMSE ≤ 5e-4; quantised matmul vs the reference on dequantised weights
// NMSE ≤ 1e-6; router ids exact.
import { GpuRuntime } from '../gpu/runtime.ts';
import type { GpuTensor } from '../gpu/tensor.ts';

export const GUARD_WORD = 0x7fc0dead; // a NaN payload no kernel writes

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
