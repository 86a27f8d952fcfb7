// The Manifest V3 extension, loaded unpacked into Chromium (persistent context, new headless mode):
// its message API answers a describe request for an image through the offscreen engine, the answer
// streams to the side panel, and the context-menu item is registered. The manifest asks for the least:
// no host access up front (activeTab + one origin asked for when an image comes from another site).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, expect, test } from '@playwright/test';
import { buildExtension } from '../extension/build.ts';
import { extraOriginFor } from '../extension/src/access.ts';
import { CHROMIUM_PATH, chromiumArgs } from '../scripts/chromium.ts';
import { E2E_PORT, E2E_TMP } from './support/env.ts';

test('extension: the manifest asks for no host access up front', () => {
  const manifest = JSON.parse(readFileSync(join(import.meta.dirname, '../extension/manifest.json'), 'utf8'));
  expect(manifest.host_permissions).toBeUndefined();
  expect(JSON.stringify(manifest)).not.toContain('<all_urls>');
  expect(manifest.permissions.sort()).toEqual(['activeTab', 'contextMenus', 'offscreen', 'sidePanel']);
  expect(manifest.optional_host_permissions).toEqual(['https://*/*', 'http://*/*']);
  // The right-clicked page's own origin comes with activeTab; only another site's is asked for.
  expect(extraOriginFor('https://a.example/x.png', 'https://a.example/page')).toBeNull();
  expect(extraOriginFor('https://cdn.example/x.png', 'https://a.example/page')).toBe('https://cdn.example/*');
  expect(extraOriginFor('data:image/png;base64,AAAA', 'https://a.example/')).toBeNull();
  expect(extraOriginFor('blob:https://a.example/1', 'https://a.example/')).toBeNull();
});

test('extension: describe an image through the message API, streamed into the side panel', async () => {
  test.setTimeout(240_000);
  // The test server's origin is granted at install: it stands in for the one-origin grant a user
  // gives when asked (a permission prompt cannot be clicked in a headless test).
  const extDir = await buildExtension(join(E2E_TMP, 'extension'), {
    hostPermissions: [`http://localhost:${E2E_PORT}/*`],
  });
  const context = await chromium.launchPersistentContext(join(E2E_TMP, `ext-profile-${Date.now()}`), {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      ...chromiumArgs().filter((a) => !a.startsWith('--headless')),
      '--headless=new',
      `--disable-extensions-except=${extDir}`,
      `--load-extension=${extDir}`,
    ],
  });
  try {
    const sw = context.serviceWorkers()[0] ?? (await context.waitForEvent('serviceworker'));
    const extId = new URL(sw.url()).host;
    // The side panel page, opened as a tab: it shows the stream and lets the test use the message API.
    const panel = await context.newPage();
    await panel.goto(`chrome-extension://${extId}/sidepanel.html`);
    const imageUrl = `http://localhost:${E2E_PORT}/e2e/screenshots/demo-idle.png`;
    const reply = await panel.evaluate(
      (url) =>
        (
          globalThis as unknown as { chrome: { runtime: { sendMessage(m: unknown): Promise<unknown> } } }
        ).chrome.runtime.sendMessage({
          type: 'kimi-vl:describe',
          imageUrl: url,
          prompt: 'What is on this screen?',
          maxTokens: 6,
          temperature: 0,
        }),
      imageUrl,
    );
    expect(reply).toMatchObject({ ok: true, tokens: expect.any(Number), mode: 'worker' });
    const r = reply as { answer: string; tokens: number };
    expect(r.tokens).toBeGreaterThanOrEqual(0);
    const entry = panel.locator('article').first();
    await expect(entry).toHaveAttribute('data-state', 'done');
    await expect(entry.locator('.prompt')).toHaveText('What is on this screen?');
    await expect(entry.locator('img')).toHaveCount(1);
    expect((await entry.locator('.answer').textContent()) ?? '').toBe(r.answer);
    // A bad image is a typed error through the same API, and the engine keeps answering.
    const bad = await panel.evaluate(
      (url) =>
        (
          globalThis as unknown as { chrome: { runtime: { sendMessage(m: unknown): Promise<unknown> } } }
        ).chrome.runtime.sendMessage({
          type: 'kimi-vl:describe',
          imageUrl: url,
          maxTokens: 2,
        }),
      `http://localhost:${E2E_PORT}/package.json`,
    );
    expect(bad).toMatchObject({ ok: false, error: { name: 'ImageError' } });
  } finally {
    await context.close();
  }
});
