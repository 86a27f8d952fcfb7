// How answers and the page look: Markdown (code blocks, lists, tables) rendered and sanitised, also
// while it streams; dark mode from prefers-color-scheme; a phone's 390 px width with nothing running
// off the page and the newest message above the composer.
import { expect, test } from '@playwright/test';
import { answered, ask, lastAnswer, openDemo, shot } from './demo-helpers.ts';

const MARKDOWN = [
  'Here is what I found:',
  '',
  '- a **red** circle',
  '- a blue square',
  '- `2` shapes in all',
  '',
  '| shape | colour |',
  '|---|---|',
  '| circle | red |',
  '| square | blue |',
  '',
  '```python',
  'print("hello")',
  '```',
  '<img src="x" onerror="window.__xss = 1"><script>window.__xss = 2</script>[link](https://example.com)',
].join('\n');

test('Markdown answers: rendered, sanitised, incremental while streaming', async ({ page }) => {
  test.setTimeout(180_000);
  const errors = await openDemo(page);
  // A saved conversation whose answer is Markdown (the page renders saved and streamed answers alike).
  await page.evaluate(async (text) => {
    const store = (await import('/demo/store.ts' as string)) as typeof import('../demo/store.ts');
    const c = store.newConversation();
    c.messages.push({ role: 'user', text: 'Describe the picture as a list and a table.' });
    c.messages.push({ role: 'assistant', text, finish: 'stop', meta: '42 tokens' });
    await store.saveConversation(c);
  }, MARKDOWN);
  await page.reload();
  const md = lastAnswer(page).locator('.markdown');
  await expect(md.locator('ul > li')).toHaveCount(3);
  await expect(md.locator('li strong')).toHaveText('red');
  await expect(md.locator('table td')).toHaveCount(4);
  await expect(md.locator('pre code')).toContainText('print("hello")');
  await expect(md.locator('a')).toHaveAttribute('rel', 'noopener noreferrer');
  await expect(md.locator('img, script, [onerror]')).toHaveCount(0);
  expect(await page.evaluate(() => (window as { __xss?: number }).__xss)).toBeUndefined();
  await shot(page, 'demo-markdown');

  // Streaming: each frame renders the text so far; a table appears once its delimiter row arrives.
  const steps = await page.evaluate(async () => {
    const { MarkdownStream } = (await import(
      '/demo/markdown.ts' as string
    )) as typeof import('../demo/markdown.ts');
    const target = document.createElement('div');
    const s = new MarkdownStream(target);
    const frame = () => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    const seen: string[] = [];
    for (const chunk of ['| a | b |\n', '|---|---|\n', '| 1 | 2 |\n', '\n```js\nlet x', ' = 1;']) {
      s.append(chunk);
      await frame();
      seen.push(target.querySelector('table') ? 'table' : target.querySelector('p') ? 'p' : 'empty');
    }
    return { seen, code: target.querySelector('pre code')?.textContent };
  });
  expect(steps.seen).toEqual(['p', 'table', 'table', 'table', 'table']);
  expect(steps.code?.trimEnd()).toBe('let x = 1;'); // an unclosed fence renders as code while it streams

  // A real streamed answer is rendered into the Markdown box as it arrives.
  await ask(page, 'Hello', 6);
  await answered(page);
  await expect(lastAnswer(page).locator('.markdown > *').first()).toBeVisible();
  expect(errors).toEqual([]);
});

test('dark mode follows prefers-color-scheme', async ({ page }) => {
  await page.emulateMedia({ colorScheme: 'dark' });
  await openDemo(page);
  const colours = await page.evaluate(() => ({
    bg: getComputedStyle(document.documentElement).backgroundColor,
    fg: getComputedStyle(document.documentElement).color,
    panel: getComputedStyle(document.querySelector('#model-panel')!).backgroundColor,
  }));
  expect(colours).toEqual({ bg: 'rgb(15, 18, 24)', fg: 'rgb(230, 233, 239)', panel: 'rgb(24, 28, 37)' });
  await ask(page, 'Hello');
  await answered(page);
  await shot(page, 'demo-dark');
});

test('390 px wide: nothing runs off the page, the newest message sits above the composer', async ({
  page,
}) => {
  await page.setViewportSize({ width: 390, height: 844 });
  const errors = await openDemo(page);
  await shot(page, 'demo-390-idle', false);
  await ask(page, 'What is in this picture?', 8);
  await answered(page);
  const layout = await page.evaluate(() => {
    const meta = [...document.querySelectorAll('.msg.assistant .meta')].at(-1)!.getBoundingClientRect();
    const composer = document.querySelector('#composer')!.getBoundingClientRect();
    const offPage = [...document.querySelectorAll('body *')].filter((e) => {
      const r = e.getBoundingClientRect();
      return r.width > 0 && (r.right > 391 || r.left < -1);
    });
    return {
      scrollWidth: document.documentElement.scrollWidth,
      metaAboveComposer: meta.bottom <= composer.top + 1,
      composerInView: composer.bottom <= 845 && composer.left >= 0 && composer.right <= 390,
      offPage: offPage.map((e) => e.id || e.className).slice(0, 5),
    };
  });
  expect(layout).toEqual({ scrollWidth: 390, metaAboveComposer: true, composerInView: true, offPage: [] });
  await shot(page, 'demo-390');
  expect(errors).toEqual([]);
});
