// The built demo (vite build → a temp folder) on a static host with an SPA fallback (pwa-host.ts):
// it loads the bundled model with no error, passes Chromium's installability check (manifest, icons,
// a service worker with a fetch handler), precaches its shell with revisions but no model data, opens
// offline fully styled and still answers, and offers "Reload" when a new deploy is published.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, expect, type Page, test } from '@playwright/test';
import { injectPrecache, precacheEntries } from '../demo/pwa_build.ts';
import { CHROMIUM_PATH, chromiumArgs } from '../scripts/chromium.ts';
import { type StaticHost, startStaticHost } from './pwa-host.ts';

test.describe.configure({ mode: 'serial' });

const REPO = join(import.meta.dirname, '..');
let work = '';
let site = '';
let host: StaticHost;

test.beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'kimi-vl-pwa-'));
  site = join(work, 'v1');
  execFileSync('npx', ['vite', 'build', '--outDir', site, '--emptyOutDir', '--logLevel', 'warn'], {
    cwd: REPO,
    stdio: 'inherit',
  });
});
test.beforeEach(async () => {
  host = await startStaticHost(site);
});
test.afterEach(async () => host.close());
test.afterAll(() => rmSync(work, { recursive: true, force: true }));

async function waitReady(page: Page): Promise<void> {
  await expect(page.locator('#status')).toHaveAttribute('data-state', 'ready', { timeout: 90_000 });
}

async function ask(page: Page, text: string): Promise<void> {
  await page.fill('#max-tokens', '4');
  await page.fill('#temperature', '0');
  await page.fill('#prompt', text);
  await page.click('#send');
  await expect(page.locator('.msg.assistant').last()).toHaveAttribute('data-finish', /stop|length/, {
    timeout: 90_000,
  });
}

/**
 * Chromium's own verdict, the criteria behind its install button. Test contexts are incognito, where
 * nothing installs ("in-incognito"), so this asks a persistent profile.
 */
async function installabilityErrors(url: string): Promise<unknown[]> {
  const profile = mkdtempSync(join(tmpdir(), 'kimi-vl-pwa-profile-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    args: chromiumArgs(),
  });
  try {
    const p = ctx.pages()[0] ?? (await ctx.newPage());
    await p.goto(url);
    await p.waitForFunction(() => navigator.serviceWorker.controller !== null, null, { timeout: 30_000 });
    const cdp = await ctx.newCDPSession(p);
    return (await cdp.send('Page.getInstallabilityErrors')).installabilityErrors;
  } finally {
    await ctx.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

/** Styles from both stylesheets are in force (not the browser's defaults). */
async function styled(page: Page) {
  return page.evaluate(() => ({
    body: getComputedStyle(document.body).display,
    composer: getComputedStyle(document.querySelector('#composer')!).position,
    sheets: document.styleSheets.length,
  }));
}

test('built site on an SPA host: model loads, installable, precached shell, offline styled', async ({
  page,
  context,
}) => {
  test.setTimeout(240_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${host.url}/`);
  await waitReady(page);
  await expect(page.locator('#load-error')).toBeHidden();
  await expect(page.locator('#send')).toBeEnabled();
  // The SPA fallback answers any missing file with the page: the loader's optional probes must cope.
  expect(host.log).toContain('GET /models/kimi-vl-tiny/config.json');

  // The manifest and its icons.
  const manifest = await page.evaluate(async () => {
    const link = document.querySelector<HTMLLinkElement>('link[rel=manifest]')!;
    const m = await (await fetch(link.href)).json();
    const icons = [];
    for (const i of m.icons) {
      const blob = await (await fetch(new URL(i.src, link.href))).blob();
      // createImageBitmap decodes raster images only; the SVG is checked by its type.
      const width = blob.type === 'image/png' ? (await createImageBitmap(blob)).width : 0;
      icons.push({ sizes: i.sizes, type: blob.type, width, purpose: i.purpose });
    }
    return { ...m, icons };
  });
  expect(manifest.display).toBe('standalone');
  expect(manifest.start_url).toBe('./');
  for (const size of [192, 512])
    expect(manifest.icons).toContainEqual(
      expect.objectContaining({ sizes: `${size}x${size}`, type: 'image/png', width: size }),
    );
  expect(manifest.icons.some((i: { purpose: string }) => i.purpose === 'maskable')).toBe(true);
  expect(manifest.icons).toContainEqual(expect.objectContaining({ type: 'image/svg+xml' }));

  expect(await installabilityErrors(`${host.url}/`)).toEqual([]);

  // The shell is precached under a versioned cache; no model data in any cache.
  const caches = await page.evaluate(async () => {
    const out: Record<string, string[]> = {};
    for (const name of await globalThis.caches.keys())
      out[name] = (await (await globalThis.caches.open(name)).keys()).map((r) => new URL(r.url).pathname);
    return { out, controlled: !!navigator.serviceWorker.controller };
  });
  expect(caches.controlled).toBe(true);
  const shellName = Object.keys(caches.out).find((n) => /^kimi-vl-shell-[0-9a-f]{12}$/.test(n));
  expect(shellName).toBeDefined();
  const shell = caches.out[shellName!]!;
  for (const [path] of precacheEntries(site)) expect(shell).toContain(path.slice(1));
  expect(shell.some((p) => p.endsWith('.css'))).toBe(true);
  const everything = Object.values(caches.out).flat();
  expect(everything.filter((p) => p.endsWith('.safetensors'))).toEqual([]);
  expect(shell.filter((p) => p.startsWith('/models/'))).toEqual([]);

  // Offline: the page comes from the service worker fully styled, the model from the OPFS cache.
  const online = await styled(page);
  expect(online).toMatchObject({ body: 'flex', composer: 'sticky' });
  await context.setOffline(true);
  await page.reload();
  await waitReady(page);
  expect(await styled(page)).toEqual(online);
  await ask(page, 'Still there?');
  await page.screenshot({ path: 'e2e/screenshots/pwa-offline.png' });
  await context.setOffline(false);
  expect(errors).toEqual([]);
});

test('a new deploy installs a waiting worker; Reload switches to it', async ({ page }) => {
  test.setTimeout(180_000);
  await page.goto(`${host.url}/`);
  await waitReady(page);
  const v1 = await page.evaluate(() => navigator.serviceWorker.controller?.scriptURL);
  expect(v1).toBeDefined();
  await expect(page.locator('#update-banner')).toBeHidden();

  // Deploy v2: one changed byte in index.html changes its revision, so sw.js changes.
  const v2 = join(work, 'v2');
  cpSync(site, v2, { recursive: true });
  const html = join(v2, 'index.html');
  writeFileSync(html, readFileSync(html, 'utf8').replace('</body>', '<!-- v2 --></body>'));
  writeFileSync(
    join(v2, 'sw.js'),
    injectPrecache(readFileSync(join(REPO, 'public/sw.js'), 'utf8'), precacheEntries(v2)),
  );
  host.swap(v2);
  await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.update());
  await expect(page.locator('#update-banner')).toBeVisible({ timeout: 30_000 });
  // The page keeps working on v1 until the user says go.
  await expect(page.locator('#send')).toBeEnabled();
  await Promise.all([page.waitForEvent('load'), page.click('#update-reload')]);
  await waitReady(page);
  expect(await page.content()).toContain('<!-- v2 -->');
  await expect(page.locator('#update-banner')).toBeHidden();
});
