// The Manifest V3 extension, loaded unpacked into Chromium (persistent context, new headless mode):
// its message API answers a describe request for an image through the offscreen engine, the answer
// streams to the side panel, and the context-menu item is registered.
import { join } from 'node:path';
import { chromium, expect, test } from '@playwright/test';
import { buildExtension } from '../extension/build.ts';
import { CHROMIUM_PATH, chromiumArgs } from '../scripts/chromium.ts';
import { E2E_PORT, E2E_TMP } from './support/env.ts';

test('extension: describe an image through the message API, streamed into the side panel', async () => {
  test.setTimeout(240_000);
  const extDir = await buildExtension(join(E2E_TMP, 'extension'));
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
