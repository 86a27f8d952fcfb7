// Shared steps of the demo specs: open the page, wait for the model, drop files, ask, screenshot.
import { expect, type Page } from '@playwright/test';

export const DEMO = '/demo/?model=kimi-vl-tiny';

export async function shot(page: Page, name: string, bottom = true): Promise<void> {
  if (bottom) await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
  await page.screenshot({ path: `e2e/screenshots/${name}.png` });
}

export async function waitReady(page: Page): Promise<void> {
  await expect(page.locator('#status')).toHaveAttribute('data-state', 'ready', { timeout: 90_000 });
}

export async function openDemo(page: Page, url = DEMO): Promise<string[]> {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await waitReady(page);
  return errors;
}

export const lastAnswer = (page: Page) => page.locator('.msg.assistant').last();

export async function ask(page: Page, text: string, maxTokens = 4): Promise<void> {
  await page.fill('#max-tokens', String(maxTokens));
  await page.fill('#temperature', '0');
  await page.fill('#prompt', text);
  await page.click('#send');
}

export async function answered(page: Page): Promise<void> {
  await expect(lastAnswer(page)).toHaveAttribute('data-finish', /stop|length/, { timeout: 90_000 });
}

/** Drops files made in the page by `make(arg)` (a page function) anywhere on the page. */
export async function dropFiles<A>(page: Page, make: (arg: A) => Promise<File[]>, arg: A): Promise<void> {
  const files = await page.evaluateHandle(make as (arg: unknown) => Promise<File[]>, arg as unknown);
  const dt = await page.evaluateHandle((fs) => {
    const t = new DataTransfer();
    for (const f of fs) t.items.add(f);
    return t;
  }, files);
  await page.dispatchEvent('body', 'drop', { dataTransfer: dt });
}

/** Page function: a one-colour PNG of w×h as a File. */
export async function pngFile([w, h, name]: [number, number, string]): Promise<File[]> {
  const c = new OffscreenCanvas(w, h);
  const g = c.getContext('2d')!;
  g.fillStyle = '#2850dc';
  g.fillRect(0, 0, w, h);
  return [new File([await c.convertToBlob({ type: 'image/png' })], name, { type: 'image/png' })];
}
