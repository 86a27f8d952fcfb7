// Which Chromium to start and how, so WebGPU runs headless (SwiftShader on Linux machines without a GPU).
// One definition shared by vitest's browser tier, Playwright e2e, the CLI (compiled into dist/cli/) and benches.
// Lookup order: $KIMI_VL_CHROMIUM, then Chromium/Chrome on PATH, then the usual macOS and Windows install
// locations, then the browser Playwright downloaded (`npx playwright-core install chromium`).
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { chromium } from 'playwright-core';

export interface FoundChromium {
  path: string;
  /** How it was found, for messages: 'KIMI_VL_CHROMIUM', 'PATH', 'install location', 'playwright'. */
  source: string;
}

const PATH_NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable', 'chrome'];

function onPath(names: string[], env: NodeJS.ProcessEnv, platform: NodeJS.Platform): string | null {
  const exts = platform === 'win32' ? (env.PATHEXT ?? '.EXE').split(';') : [''];
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean))
    for (const n of names)
      for (const ext of exts) {
        const p = join(dir, n + ext.toLowerCase());
        if (existsSync(p)) return p;
      }
  return null;
}

function installLocations(env: NodeJS.ProcessEnv, platform: NodeJS.Platform): string[] {
  if (platform === 'darwin')
    return ['Google Chrome', 'Chromium', 'Google Chrome Canary'].flatMap((app) => [
      `/Applications/${app}.app/Contents/MacOS/${app}`,
      join(homedir(), `Applications/${app}.app/Contents/MacOS/${app}`),
    ]);
  if (platform === 'win32')
    return [env.PROGRAMFILES, env['PROGRAMFILES(X86)'], env.LOCALAPPDATA]
      .filter((d): d is string => !!d)
      .flatMap((d) => [
        join(d, 'Google/Chrome/Application/chrome.exe'),
        join(d, 'Chromium/Application/chrome.exe'),
      ]);
  return ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/snap/bin/chromium'];
}

/** The first Chromium found, or null. `env`/`platform` are parameters so the order can be tested anywhere. */
export function findChromium(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  playwrightPath: () => string = () => chromium.executablePath(),
): FoundChromium | null {
  if (env.KIMI_VL_CHROMIUM) return { path: env.KIMI_VL_CHROMIUM, source: 'KIMI_VL_CHROMIUM' };
  const path = onPath(PATH_NAMES, env, platform);
  if (path) return { path, source: 'PATH' };
  const installed = installLocations(env, platform).find((p) => existsSync(p));
  if (installed) return { path: installed, source: 'install location' };
  try {
    const own = playwrightPath();
    if (own && existsSync(own)) return { path: own, source: 'playwright' };
  } catch {
    // playwright-core knows no browser for this platform
  }
  return null;
}

const found = findChromium();
/** The Chromium every tier and the CLI start (see findChromium); a path that may not exist when none was found. */
export const CHROMIUM_PATH = found?.path ?? '/usr/bin/chromium';

/**
 * Flags for headless WebGPU. With `hardware` the adapter is the machine's GPU; otherwise, on Linux,
 * SwiftShader through Vulkan (Chromium ships it there). macOS (Metal) and Windows (D3D12) have no
 * SwiftShader WebGPU adapter, so there the machine's GPU is used either way.
 */
export function chromiumArgs(
  opts: { hardware?: boolean } = {},
  platform: NodeJS.Platform = process.platform,
): string[] {
  const common = [
    '--enable-unsafe-webgpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
  ];
  if (platform !== 'linux') return common;
  // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start; /dev/shm is small in containers.
  const linux = [...common, '--no-sandbox', '--disable-dev-shm-usage'];
  if (opts.hardware)
    return [...linux, '--enable-features=Vulkan', '--use-angle=vulkan', '--ignore-gpu-blocklist'];
  return [
    ...linux,
    '--enable-features=Vulkan',
    '--use-vulkan=swiftshader',
    '--use-webgpu-adapter=swiftshader',
    '--disable-vulkan-surface',
  ];
}

export function assertChromium(): void {
  if (!found || !existsSync(found.path)) {
    const hint =
      process.platform === 'linux'
        ? 'install it (Debian/Ubuntu: "apt-get install -y chromium")'
        : 'install Google Chrome';
    throw new Error(
      `${found ? `Chromium not found at ${found.path} (from ${found.source})` : 'No Chromium or Chrome found'}: ` +
        `${hint}, run "npx playwright-core install chromium", or set KIMI_VL_CHROMIUM to a Chromium binary.`,
    );
  }
}
