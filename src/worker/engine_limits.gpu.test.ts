// The engine's `limits` option is real: with a 16 KiB cap the model loads with its tensors in parts and
// the limit guard saw nothing above the cap; a cap below one row of a weight stops the load with
// GpuLimitError before any shard is requested; the guard refuses any buffer created or bound above the
// cap; without a cap the same model loads with nothing above the device's limit.
import { describe, expect, it } from 'vitest';
import { acquireDevice } from '../gpu/device.ts';
import { installLimitGuard, limitGuardOf } from '../gpu/limit_guard.ts';
import { GpuRuntime } from '../gpu/runtime.ts';
import { Engine } from './engine.ts';

// Vite serves public/ at the root.
const MODEL = `${location.origin}/models/kimi-vl-tiny/`;
const shardRequests = () =>
  performance
    .getEntriesByType('resource')
    .filter((e) => e.name.startsWith(MODEL) && e.name.endsWith('.safetensors')).length;

describe('engine limits', () => {
  it('a 16 KiB binding cap: the model loads in parts and nothing above 16 KiB is created or bound', async () => {
    const engine = new Engine();
    const cap = 16 * 1024;
    await engine.load(1, MODEL, { limits: { maxStorageBufferBindingSize: cap } });
    const device = (engine as unknown as { loaded: { rt: GpuRuntime } }).loaded.rt.device;
    const guard = limitGuardOf(device)!;
    expect(guard.limits.maxStorageBufferBindingSize).toBe(cap);
    expect(guard.seen.largestStorageBuffer).toBeGreaterThan(0);
    expect(guard.seen.largestStorageBuffer).toBeLessThanOrEqual(cap);
    expect(guard.seen.largestBinding).toBeLessThanOrEqual(cap);
    await engine.unload();
  });

  it('a cap below one row of a weight fails with GpuLimitError before any shard is requested', async () => {
    performance.clearResourceTimings();
    const engine = new Engine();
    const err = await engine
      .load(3, MODEL, { limits: { maxStorageBufferBindingSize: 64 } })
      .catch((e: Error) => e);
    expect(err).toMatchObject({ name: 'GpuLimitError' });
    expect((err as Error).message).toMatch(/cannot be split further/);
    expect(shardRequests()).toBe(0);
  });

  it('without a cap the model loads; the guard saw nothing above the device limit', async () => {
    const engine = new Engine();
    const info = await engine.load(2, MODEL, {});
    expect(info.backend).toBe('gpu');
    const device = (engine as unknown as { loaded: { rt: GpuRuntime } }).loaded.rt.device;
    const guard = limitGuardOf(device)!;
    expect(guard).not.toBeNull();
    expect(guard.seen.largestStorageBuffer).toBeGreaterThan(0);
    expect(guard.seen.largestStorageBuffer).toBeLessThanOrEqual(device.limits.maxStorageBufferBindingSize);
    await engine.unload();
  });

  it('the guard refuses a buffer or a binding above the cap and lets smaller ones through', async () => {
    const acquired = await acquireDevice();
    const big = acquired.device.createBuffer({ size: 64 * 1024, usage: GPUBufferUsage.STORAGE });
    const guard = installLimitGuard(acquired.device, {
      maxStorageBufferBindingSize: 16 * 1024,
      maxBufferSize: 1 << 30,
    });
    const rt = GpuRuntime.fromDevice(acquired);
    try {
      const small = rt.uploadWeight({ dtype: 'f32', shape: [1024], bytes: new Uint8Array(4096) });
      expect(small.byteSize).toBe(4096);
      expect(() => rt.uploadWeight({ dtype: 'f32', shape: [8192], bytes: new Uint8Array(32768) })).toThrow(
        expect.objectContaining({ name: 'GpuLimitError' }),
      );
      const layout = acquired.device.createBindGroupLayout({
        entries: [{ binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'storage' } }],
      });
      expect(() =>
        acquired.device.createBindGroup({ layout, entries: [{ binding: 0, resource: { buffer: big } }] }),
      ).toThrow(expect.objectContaining({ name: 'GpuLimitError' }));
      acquired.device.createBindGroup({
        layout,
        entries: [{ binding: 0, resource: { buffer: big, size: 8192 } }],
      });
      expect(guard.seen.largestBinding).toBe(8192);
      expect(guard.seen.largestStorageBuffer).toBe(4096);
    } finally {
      rt.destroy();
    }
  });
});
