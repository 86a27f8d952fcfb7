// Runs first in the gpu tier: if this fails, the machine has no usable WebGPU adapter, which is an
// environment problem (Chromium flags, drivers), not a kernel bug.
import { expect, test } from 'vitest';
import { acquireDevice } from './device.ts';

test('WebGPU adapter and device are available', async () => {
  let acquired: Awaited<ReturnType<typeof acquireDevice>>;
  try {
    acquired = await acquireDevice();
  } catch (e) {
    throw new Error(
      `NO WEBGPU ADAPTER — every GPU kernel test below will fail for this reason, not because of a kernel bug. ` +
        `Check the Chromium flags in scripts/chromium.ts (SwiftShader: --use-webgpu-adapter=swiftshader). ` +
        `Cause: ${(e as Error).message}`,
    );
  }
  const { device, info, features } = acquired;
  console.log(
    `adapter: ${info.vendor} / ${info.architecture} · shader-f16 ${features.shaderF16} · subgroups ${features.subgroups}`,
  );
  expect(device.limits.maxStorageBufferBindingSize).toBeGreaterThanOrEqual(128 << 20);
  device.destroy();
});

test('the f16-less path is selected by feature detection', async () => {
  const { features, device } = await acquireDevice({ disableFeatures: ['shaderF16'] });
  expect(features.shaderF16).toBe(false);
  expect(device.features.has('shader-f16')).toBe(false);
  device.destroy();
});
