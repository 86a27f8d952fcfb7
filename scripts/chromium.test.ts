// Browser lookup order and per-platform flags (scripts/chromium.ts), on fake PATHs and install folders.
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chromiumArgs, findChromium } from './chromium.ts';

function fakeBinary(dir: string, name: string): string {
  mkdirSync(dir, { recursive: true });
  const p = join(dir, name);
  writeFileSync(p, '#!/bin/sh\n');
  chmodSync(p, 0o755);
  return p;
}

const none = () => '';

describe('findChromium', () => {
  const root = mkdtempSync(join(tmpdir(), 'chromium-lookup-'));
  const binDir = join(root, 'bin');
  const onPath = fakeBinary(binDir, 'google-chrome');

  it('KIMI_VL_CHROMIUM wins over everything', () => {
    const found = findChromium({ KIMI_VL_CHROMIUM: '/opt/x/chrome', PATH: binDir }, 'linux', () => onPath);
    expect(found).toEqual({ path: '/opt/x/chrome', source: 'KIMI_VL_CHROMIUM' });
  });

  it('then Chromium/Chrome on PATH', () => {
    expect(findChromium({ PATH: binDir }, 'linux', none)).toEqual({ path: onPath, source: 'PATH' });
  });

  it("then the Windows install locations, then Playwright's own browser", () => {
    const local = join(root, 'LocalAppData');
    const chrome = fakeBinary(join(local, 'Google/Chrome/Application'), 'chrome.exe');
    expect(findChromium({ PATH: '', LOCALAPPDATA: local }, 'win32', none)).toEqual({
      path: chrome,
      source: 'install location',
    });
    const own = fakeBinary(join(root, 'ms-playwright'), 'chrome');
    expect(findChromium({ PATH: '' }, 'win32', () => own)).toEqual({ path: own, source: 'playwright' });
  });

  it('null when there is none (and a Playwright without a browser is not one)', () => {
    expect(findChromium({ PATH: '' }, 'win32', () => join(root, 'missing'))).toBeNull();
    expect(
      findChromium({ PATH: '' }, 'win32', () => {
        throw new Error('unsupported platform');
      }),
    ).toBeNull();
  });
});

describe('chromiumArgs', () => {
  it('SwiftShader through Vulkan on Linux only; the GPU elsewhere', () => {
    expect(chromiumArgs({}, 'linux')).toContain('--use-webgpu-adapter=swiftshader');
    expect(chromiumArgs({}, 'linux')).toContain('--no-sandbox');
    for (const platform of ['darwin', 'win32'] as const) {
      const args = chromiumArgs({}, platform);
      expect(args).toContain('--enable-unsafe-webgpu');
      expect(args.some((a) => /vulkan|swiftshader|no-sandbox/i.test(a))).toBe(false);
    }
    expect(chromiumArgs({ hardware: true }, 'linux')).toContain('--use-angle=vulkan');
  });
});
