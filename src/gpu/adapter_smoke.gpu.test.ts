// Runs first in the gpu tier: if this fails, the machine has no usable WebGPU adapter, which is an
// environment problem (Chromium flags, drivers), not a kernel bug (the test runtime says so).
import { expect, test } from 'vitest';
import { withRuntime } from './testing.ts';

test('WebGPU adapter and device are available', async () => {
  await withRuntime({}, async ({ device, info, features }) => {
    console.log(
      `adapter: ${info.vendor} / ${info.architecture} · shader-f16 ${features.shaderF16} · subgroups ${features.subgroups}`,
    );
    expect(device.limits.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 << 20);
  });
});

test('the f16-less path is selected by feature detection', async () => {
  await withRuntime({ disableFeatures: ['shaderF16'] }, async ({ device, features }) => {
    expect(features.shaderF16).toBe(false);
    expect(device.features.has('shader-f16')).toBe(false);
  });
});
