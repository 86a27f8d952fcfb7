// Opens the consumer app's built page in headless Chromium (same binary and flags as every browser tier,
// scripts/chromium.ts) and returns what the page reports: per load variant, the engine's mode and tokens.
import { chromium } from 'playwright-core';
import { assertChromium, CHROMIUM_PATH, chromiumArgs } from '../chromium.ts';

export type PageReport = Record<string, { mode: string; tokens: number; text: string } | string>;

export async function loadInPage(url: string, timeoutMs = 240_000): Promise<PageReport> {
  assertChromium();
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: chromiumArgs() });
  const log: string[] = [];
  try {
    const page = await browser.newPage();
    page.on('console', (m) => log.push(`[${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => log.push(`[pageerror] ${e.message}`));
    await page.goto(url);
    await page
      .waitForFunction(() => (window as unknown as { report?: unknown }).report !== undefined, null, {
        timeout: timeoutMs,
      })
      .catch((e: Error) => {
        throw new Error(`${e.message}\npage log:\n${log.join('\n')}`);
      });
    const report = (await page.evaluate(
      () => (window as unknown as { report: PageReport }).report,
    )) as PageReport;
    for (const v of Object.values(report))
      if (typeof v === 'string')
        console.log(`consumer: page log for the failure below:\n${log.slice(-20).join('\n')}`);
    return report;
  } finally {
    await browser.close();
  }
}
