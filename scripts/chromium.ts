// Where Chromium lives and how it must be started so WebGPU runs headless (SwiftShader on machines
// without a GPU). One definition shared by vitest's browser tier, Playwright e2e, the CLI and benches.
import { existsSync } from 'node:fs';

export const CHROMIUM_PATH = process.env.KIMI_VL_CHROMIUM ?? '/usr/bin/chromium';

/** Flags for headless WebGPU. With `hardware` the adapter is the machine's GPU; otherwise SwiftShader. */
export function chromiumArgs(opts: { hardware?: boolean } = {}): string[] {
  const common = [
    '--enable-unsafe-webgpu',
    '--no-sandbox',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--disable-dev-shm-usage',
  ];
  if (opts.hardware)
    return [...common, '--enable-features=Vulkan', '--use-angle=vulkan', '--ignore-gpu-blocklist'];
  return [
    ...common,
    '--enable-features=Vulkan',
    '--use-vulkan=swiftshader',
    '--use-webgpu-adapter=swiftshader',
    '--disable-vulkan-surface',
  ];
}

export function assertChromium(): void {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}. Install it with "apt-get install -y chromium" ` +
        '(or set KIMI_VL_CHROMIUM to another Chromium binary).',
    );
  }
}
