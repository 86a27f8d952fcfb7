// The model catalogue as a person uses it: every model with its download size and GPU memory per
// quantisation, fit marks for this device, a cached mark that follows the engine's cache, Delete, a
// Cancel button while loading, and a failed or cancelled load that keeps the model that was working.
import { expect, test } from '@playwright/test';
import { answered, ask, openDemo, shot } from './demo-helpers.ts';

test('catalogue: sizes, fits and cached marks, delete, cancel, a failed load keeps the model', async ({
  page,
}) => {
  test.setTimeout(300_000);
  const errors = await openDemo(page);
  const row = (key: string) => page.locator(`.model-row[data-key="${key}"]`);
  const tiny = row('kimi-vl-tiny');
  for (const key of [
    'kimi-vl-tiny',
    'Kimi-VL-A3B-Instruct',
    'Kimi-VL-A3B-Thinking',
    'Kimi-VL-A3B-Thinking-2506',
  ])
    await expect(row(key)).toBeVisible();
  await expect(tiny).toHaveAttribute('data-loaded', 'true');
  // Figures from the memory plan: the tiny model fits at every quantisation, the real one's bf16 does not.
  for (const q of ['none', 'q8', 'q4'])
    await expect(tiny.locator(`.fit[data-quant="${q}"]`)).toHaveAttribute('data-fits', 'true');
  const real = row('Kimi-VL-A3B-Instruct');
  await expect(real.locator('.download')).toContainText(/download 3\d\.\d GB/);
  await expect(real.locator('.fit[data-quant="none"]')).toHaveAttribute('data-fits', 'false');
  await expect(real.locator('.fit[data-quant="q4"]')).toContainText(/q4 \d+\.\d GB/);
  // Loaded once, so cached.
  await expect(tiny).toHaveAttribute('data-cached', 'true');
  await expect(tiny.locator('.cached')).toContainText(/cached 0\.\d\d MB/);

  // A load that fails keeps the working model.
  await page.fill('#model-input', '/models/does-not-exist/');
  await page.click('#load');
  await expect(page.locator('#load-error')).toBeVisible({ timeout: 60_000 });
  await expect(page.locator('#status')).toHaveAttribute('data-state', 'ready');
  await expect(page.locator('#status')).toContainText('kept');
  await ask(page, 'Hello');
  await answered(page);

  // Delete: the cached mark goes.
  page.once('dialog', (d) => d.accept());
  await tiny.locator('.delete').click();
  await expect(tiny).toHaveAttribute('data-cached', 'false');
  await expect(tiny.locator('.delete')).toBeHidden();

  // Cancel while loading (slow weights, so the load is still downloading when Cancel is pressed).
  await page.route('**/*.safetensors', async (route) => {
    await new Promise((r) => setTimeout(r, 4000));
    await route.continue().catch(() => {});
  });
  await tiny.locator('button.load').click();
  await expect(page.locator('#cancel-load')).toBeVisible();
  await expect(page.locator('#progress')).toBeVisible();
  await shot(page, 'demo-catalogue', false);
  await page.click('#cancel-load');
  await expect(page.locator('#cancel-load')).toBeHidden({ timeout: 30_000 });
  await expect(page.locator('#load-error')).toHaveAttribute('data-name', 'AbortError');
  await expect(page.locator('#status')).toHaveAttribute('data-state', 'ready');
  await page.unroute('**/*.safetensors');
  // The model that was working still answers.
  await ask(page, 'Still here?');
  await answered(page);
  expect(errors).toEqual([]);
});
