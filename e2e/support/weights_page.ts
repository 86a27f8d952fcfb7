// Playwright helpers for the weights loader test page (e2e/pages/weights-test.html).
import { createHash } from 'node:crypto';
import { expect, type Page, test } from '@playwright/test';
import type { CachedModelInfo } from '../../src/weights/cache.ts';
import { loadHostWeights } from '../../src/weights/node_source.ts';
import type { LoadReport, LoadRequest, WeightSummary } from '../pages/weights-test.ts';
import { DataSession } from './data_client.ts';

export async function openWeightsPage(page: Page): Promise<string[]> {
  const pageErrors: string[] = [];
  if (process.env.KIMI_VL_E2E_CONSOLE) page.on('console', (m) => console.log(`[page] ${m.text()}`));
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto('/e2e/pages/weights-test.html');
  await expect(page).toHaveTitle('weights-test ready');
  return pageErrors;
}

export interface WeightsPageSession {
  /** This test's data session (fault injection, request log); reset after the test. */
  readonly data: DataSession;
  /** Opens the page again (a reload mid-test); its errors are checked after the test too. */
  reopen(page: Page): Promise<void>;
}

/**
 * For every test of the calling spec: a fresh DataSession and the weights page opened before; after,
 * no uncaught error or unhandled rejection on the page, and the session reset.
 */
export function useWeightsPage(): WeightsPageSession {
  let pageErrors: string[] = [];
  const session = {
    data: undefined as unknown as DataSession,
    async reopen(page: Page) {
      pageErrors = await openWeightsPage(page);
    },
  };
  test.beforeEach(async ({ page }) => {
    session.data = new DataSession();
    await session.reopen(page);
  });
  test.afterEach(async ({ page }) => {
    await expectNoUncaught(page, pageErrors);
    await session.data.reset();
  });
  return session;
}

export function load(page: Page, req: LoadRequest): Promise<LoadReport> {
  return page.evaluate((r) => window.weightsTest.load(r), req);
}

export function listCached(page: Page): Promise<CachedModelInfo[]> {
  return page.evaluate(() => window.weightsTest.listCachedModels());
}

/** Asserts nothing escaped as an uncaught error or unhandled rejection on the page. */
export async function expectNoUncaught(page: Page, pageErrors: string[]): Promise<void> {
  expect(pageErrors).toEqual([]);
  expect(await page.evaluate(() => window.weightsTest.uncaught())).toEqual([]);
}

/** What Node's loader produces for the same folder: the browser must match it byte for byte. */
export async function nodeWeightSummaries(dir: string, quant: 'none' | 'q8' | 'q4' = 'none') {
  const out: Record<string, WeightSummary> = {};
  for (const [name, w] of await loadHostWeights(dir, quant))
    out[name] = {
      dtype: w.dtype,
      shape: w.shape,
      bytes: w.bytes.byteLength,
      sha256: createHash('sha256').update(w.bytes).digest('hex'),
    };
  return out;
}

export function expectOk(r: LoadReport): NonNullable<LoadReport['model']> {
  expect(r.error, `load failed: ${r.error?.name}: ${r.error?.message}`).toBeUndefined();
  expect(r.ok).toBe(true);
  return r.model!;
}
