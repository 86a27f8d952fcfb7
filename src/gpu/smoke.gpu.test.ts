import { expect, test } from 'vitest';

test('a WebGPU adapter is available (if this fails, no GPU was found: not a kernel bug)', async () => {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) throw new Error('navigator.gpu is missing: Chromium was not started with WebGPU enabled.');
  const adapter = await gpu.requestAdapter();
  if (!adapter) throw new Error('No WebGPU adapter found: check the SwiftShader / Vulkan flags in scripts/chromium.ts.');
  expect(adapter.info.vendor.length + adapter.info.architecture.length).toBeGreaterThanOrEqual(0);
});
