// The GPU test fixture every browser-tier test that touches WebGPU shares: the per-file runtime, fresh
// runtimes destroyed even when the test fails, and the guard words written after each pooled buffer's
// data (a kernel that writes past its output overwrites them). The kernel-test harness on top of it is
// src/kernels/testing.ts; this floor knows no kernel.
import type { DeviceRequest } from './device.ts';
import { GpuRuntime } from './runtime.ts';
import type { GpuTensor } from './tensor.ts';

export const GUARD_WORD = 0x7fc0dead; // a NaN payload no kernel writes

let shared: Promise<GpuRuntime> | null = null;

/** A runtime (with guard words on pooled buffers unless told otherwise); a missing adapter is named as such. */
async function createRuntime(req: DeviceRequest = {}, guards = true): Promise<GpuRuntime> {
  const rt = await GpuRuntime.create(req).catch((e: Error) => {
    throw new Error(
      'NO WEBGPU ADAPTER: every GPU test fails for this reason, not because of a kernel bug. Check the ' +
        'Chromium flags in scripts/chromium.ts (SwiftShader: --use-webgpu-adapter=swiftshader). ' +
        `Cause: ${e.message}`,
    );
  });
  // Guarded buffers are never recycled by the pool, so tests of pool and bind-group reuse turn them off.
  if (guards) rt.pool.guard = { bytes: 64, word: GUARD_WORD };
  return rt;
}

/** One runtime per test file, with guard words enabled on pooled buffers. */
export function testRuntime(): Promise<GpuRuntime> {
  shared ??= createRuntime();
  return shared;
}

/**
 * A fresh runtime for tests that need their own device: feature switches, device loss, compile errors,
 * pool reuse (`guards: false`). Destroyed after `fn`, also when it throws.
 */
export async function withRuntime<T>(
  req: DeviceRequest,
  fn: (rt: GpuRuntime) => Promise<T>,
  opts: { guards?: boolean } = {},
): Promise<T> {
  const rt = await createRuntime(req, opts.guards ?? true);
  try {
    return await fn(rt);
  } finally {
    rt.destroy();
  }
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
