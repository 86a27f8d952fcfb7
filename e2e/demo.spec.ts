// The demo driven like a person would: the bundled tiny model loads with a visible progress bar, an
// image is dropped in, a question is sent, tokens appear one by one, Stop interrupts within one token,
// the reasoning panel works, and after a reload with the network cut the demo still loads and answers.
// Screenshots go to e2e/screenshots/ (committed).
import { expect, type Page, test } from '@playwright/test';

const DEMO = '/demo/?model=/models/kimi-vl-tiny/';
async function shot(page: Page, name: string): Promise<void> {
  await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight)); // the newest message
  await page.screenshot({ path: `e2e/screenshots/${name}.png` });
}

async function dropImage(page: Page): Promise<void> {
  const dt = await page.evaluateHandle(async () => {
    const c = new OffscreenCanvas(96, 64);
    const g = c.getContext('2d')!;
    g.fillStyle = '#3654d8';
    g.fillRect(0, 0, 96, 64);
    g.fillStyle = '#f5b400';
    g.beginPath();
    g.arc(48, 32, 20, 0, Math.PI * 2);
    g.fill();
    const blob = await c.convertToBlob({ type: 'image/png' });
    const t = new DataTransfer();
    t.items.add(new File([blob], 'sun.png', { type: 'image/png' }));
    return t;
  });
  await page.dispatchEvent('body', 'drop', { dataTransfer: dt });
}

async function waitReady(page: Page): Promise<void> {
  await expect(page.locator('#status')).toHaveAttribute('data-state', 'ready', { timeout: 60_000 });
}

const lastAnswer = (page: Page) => page.locator('.msg.assistant').last();

async function ask(page: Page, text: string, maxTokens: number): Promise<void> {
  await page.fill('#max-tokens', String(maxTokens));
  await page.fill('#temperature', '0');
  await page.fill('#prompt', text);
  await page.click('#send');
}

test('demo: load with progress, image, streaming, stop, reasoning, offline', async ({ page, context }) => {
  test.setTimeout(240_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // Slow the weights a little so the progress bar is on screen long enough to see.
  await page.route('**/*.safetensors', async (route) => {
    await new Promise((r) => setTimeout(r, 700));
    await route.continue();
  });
  await page.goto(DEMO);
  await expect(page.locator('#progress')).toBeVisible();
  await expect(page.locator('#progress-text')).toContainText(/MB|Checking|Downloading/);
  await waitReady(page);
  await expect(page.locator('#progress')).toBeHidden();
  await expect(page.locator('#model-note')).toContainText('meaningless');
  await page.unroute('**/*.safetensors');
  await shot(page, 'demo-idle');

  // An image dropped anywhere becomes a previewed attachment.
  await dropImage(page);
  await expect(page.locator('#previews img')).toHaveCount(1);
  // Tokens appear one by one: every value the token counter takes is recorded as it changes (a
  // MutationObserver, not polling, so a fast adapter cannot finish between two looks).
  await page.evaluate(() => {
    const seen: string[] = [];
    (globalThis as Record<string, unknown>).__tokenCounts = seen;
    new MutationObserver((records) => {
      for (const r of records) seen.push(r.oldValue ?? '');
    }).observe(document.body, {
      subtree: true,
      attributes: true,
      attributeOldValue: true,
      attributeFilter: ['data-tokens'],
    });
  });
  await ask(page, 'What is in this picture?', 12);
  const answer = lastAnswer(page);
  await expect(answer).toHaveAttribute('data-finish', /.+/, { timeout: 120_000 });
  const seen = await page.evaluate(() => (globalThis as Record<string, unknown>).__tokenCounts as string[]);
  // Each record holds the value before its change: with the final one, every value the counter took.
  seen.push((await answer.getAttribute('data-tokens')) ?? '');
  expect(new Set(seen).size, seen.join(' ')).toBeGreaterThanOrEqual(3);
  await expect(page.locator('.msg.user img')).toHaveCount(1);
  await expect(answer.locator('.meta')).toContainText(/first token \d+ ms/);

  // Stop interrupts within one token.
  await ask(page, 'Tell me a long story.', 400);
  const second = lastAnswer(page);
  await expect
    .poll(async () => Number(await second.getAttribute('data-tokens')), { timeout: 60_000 })
    .toBeGreaterThanOrEqual(3);
  await shot(page, 'demo-streaming');
  // Read the count and press Stop in one step, so no token can arrive in between.
  const atStop = await page.evaluate(() => {
    const n = Number(document.querySelector('.msg.assistant:last-of-type')?.getAttribute('data-tokens'));
    document.querySelector<HTMLButtonElement>('#stop')!.click();
    return n;
  });
  await expect(second).toHaveAttribute('data-finish', 'abort', { timeout: 30_000 });
  expect(Number(await second.getAttribute('data-tokens'))).toBeLessThanOrEqual(atStop + 1);
  await expect(page.locator('#send')).toBeEnabled();

  // Reasoning panel (demo thinking mode with the tiny model).
  await page.check('#thinking-demo');
  await ask(page, 'Why is the sky blue?', 24);
  const third = lastAnswer(page);
  await expect(third.locator('.reasoning')).not.toBeEmpty({ timeout: 60_000 });
  await expect(third).toHaveAttribute('data-finish', /stop|length/, { timeout: 90_000 });
  await third.locator('details').evaluate((d) => {
    (d as HTMLDetailsElement).open = true;
  });
  await shot(page, 'demo-reasoning');
  await page.uncheck('#thinking-demo');

  // Offline: the app shell from the service worker, the model from the OPFS cache.
  await context.setOffline(true);
  await page.reload();
  await waitReady(page);
  await ask(page, 'Still there?', 4);
  await expect(lastAnswer(page)).toHaveAttribute('data-finish', /stop|length/, { timeout: 90_000 });
  await context.setOffline(false);
  expect(errors).toEqual([]);
});
