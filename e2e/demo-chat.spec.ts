// The conversation as a person meets it: examples one click away, a 20000×10 picture that stays in its
// bubble and whose refusal is shown beside its turn (not above the chat), Stop that ends the turn on the
// click, regenerate and copy, the conversation back after a reload (IndexedDB), and a dropped video
// shown as its sampled frames.
import { expect, type Page, test } from '@playwright/test';
import { answered, ask, dropFiles, lastAnswer, openDemo, pngFile, shot } from './demo-helpers.ts';

/** The bottom of `sel` is above the top of the composer (nothing hidden under it). */
async function clearOfComposer(page: Page, sel: string): Promise<boolean> {
  return page.evaluate((s) => {
    const target = [...document.querySelectorAll(s)].at(-1)!.getBoundingClientRect();
    const composer = document.querySelector('#composer')!.getBoundingClientRect();
    return target.bottom <= composer.top + 1 && target.bottom > 0;
  }, sel);
}

test('chat: examples, wide picture, per-turn error, instant stop, regenerate, copy, kept across reload', async ({
  page,
  context,
}) => {
  test.setTimeout(300_000);
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  const errors = await openDemo(page);
  await expect(page.locator('#examples .example')).toHaveCount(5);
  await shot(page, 'demo-examples');

  // One click: the example's picture and question are sent.
  await page.fill('#max-tokens', '4');
  await page.fill('#temperature', '0');
  await page.locator('#examples .example').first().click();
  await expect(page.locator('.msg.user').last().locator('img')).toHaveCount(1);
  await expect(page.locator('.msg.user').last()).toContainText('What is in this picture?');
  await answered(page);
  await expect(page.locator('#examples')).toBeHidden();
  expect(await clearOfComposer(page, '.msg.assistant .meta')).toBe(true);

  // New chat: the examples come back; the first conversation stays saved.
  await page.click('#clear');
  await expect(page.locator('.msg')).toHaveCount(0);
  await expect(page.locator('#examples')).toBeVisible();
  await expect(page.locator('#conversations option')).toHaveCount(2);

  // A 20000×10 picture stays inside its bubble.
  await dropFiles(page, pngFile, [20000, 10, 'wide.png']);
  await expect(page.locator('#previews img')).toHaveCount(1);
  await ask(page, 'What is this?');
  const wide = await page.evaluate(() => {
    const bubble = [...document.querySelectorAll('.msg.user')].at(-1)!;
    const b = bubble.getBoundingClientRect();
    const i = bubble.querySelector('img')!.getBoundingClientRect();
    return {
      inside: i.left >= b.left && i.right <= b.right,
      pageWidth: document.documentElement.scrollWidth,
    };
  });
  expect(wide.inside).toBe(true);
  expect(wide.pageWidth).toBeLessThanOrEqual(page.viewportSize()!.width);
  // The engine refuses a side over 16384 px: that error is in this turn's bubble, in view above the
  // composer (not above the chat, scrolled away).
  const failed = lastAnswer(page);
  await expect(failed).toHaveAttribute('data-finish', 'error', { timeout: 60_000 });
  await expect(failed.locator('.turn-error')).toHaveAttribute('data-name', 'ImageError');
  await expect(failed.locator('.turn-error')).toContainText('20000×10');
  await expect(failed.locator('.turn-error')).toBeInViewport();
  expect(await clearOfComposer(page, '.turn-error')).toBe(true);
  await shot(page, 'demo-turn-error');

  // Stop ends the turn on the click itself.
  await ask(page, 'Tell me a long story.', 400);
  const long = lastAnswer(page);
  await expect
    .poll(async () => Number(await long.getAttribute('data-tokens')), { timeout: 60_000 })
    .toBeGreaterThanOrEqual(2);
  const atClick = await page.evaluate(() => {
    document.querySelector<HTMLButtonElement>('#stop')!.click();
    const turn = [...document.querySelectorAll('.msg.assistant')].at(-1)!;
    return {
      finish: turn.getAttribute('data-finish'),
      sendHidden: document.querySelector<HTMLElement>('#send')!.hidden,
    };
  });
  expect(atClick).toEqual({ finish: 'abort', sendHidden: false });
  await expect(long.locator('.meta')).toHaveText('stopped');

  // Regenerate replaces the last answer; copy puts the answer on the clipboard.
  const count = await page.locator('.msg.assistant').count();
  await page.fill('#max-tokens', '4');
  await lastAnswer(page).locator('button[title="Regenerate"]').click();
  await answered(page);
  expect(await page.locator('.msg.assistant').count()).toBe(count);
  await lastAnswer(page).locator('button[title="Copy the answer"]').click();
  const stored = await page.evaluate(async () => {
    const { listConversations } = (await import(
      '/demo/store.ts' as string
    )) as typeof import('../demo/store.ts');
    return (await listConversations())[0]!.messages.at(-1)!.text;
  });
  expect(stored.length).toBeGreaterThan(0);
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(stored);

  // Reload: the conversation is back, pictures included.
  const before = await page.locator('.msg').count();
  await page.reload();
  await expect(page.locator('.msg')).toHaveCount(before);
  await expect(page.locator('.msg.user img').first()).toBeVisible();
  await expect(page.locator('.turn-error')).toHaveCount(1);
  expect(errors).toEqual([]);
});

test('chat: a dropped video is shown as its sampled frames and sent as them', async ({ page }) => {
  test.setTimeout(240_000);
  await openDemo(page);
  await dropFiles(
    page,
    async () => {
      const canvas = document.createElement('canvas');
      canvas.width = 112;
      canvas.height = 84;
      const g = canvas.getContext('2d')!;
      const recorder = new MediaRecorder(canvas.captureStream(15), { mimeType: 'video/webm' });
      const chunks: Blob[] = [];
      recorder.ondataavailable = (e) => chunks.push(e.data);
      const stopped = new Promise((r) => {
        recorder.onstop = r;
      });
      recorder.start(100);
      for (let i = 0; i < 30; i++) {
        g.fillStyle = '#fff';
        g.fillRect(0, 0, 112, 84);
        g.fillStyle = '#dc2828';
        g.beginPath();
        g.arc(40, 42, 16, 0, Math.PI * 2);
        g.fill();
        await new Promise((r) => setTimeout(r, 40));
      }
      recorder.stop();
      await stopped;
      return [new File(chunks, 'still.webm', { type: 'video/webm' })];
    },
    null,
  );
  // The bundled tiny entry samples 4 fps, at most 4 frames.
  await expect(page.locator('#previews .media.video img')).toHaveCount(4, { timeout: 30_000 });
  await expect(page.locator('#previews .frames-label')).toHaveText('4 frames of still.webm');
  await ask(page, 'How many shapes are there?');
  await expect(page.locator('.msg.user').last().locator('.media.video img')).toHaveCount(4);
  await answered(page);
  await shot(page, 'demo-video');
});
