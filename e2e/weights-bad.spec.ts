// The bad-checkpoint battery (src/weights/fixtures/bad_checkpoints.ts) through the browser loader:
// each broken checkpoint is refused with its own typed error and message, nothing escapes as an
// uncaught exception, and the cache is left with nothing in it (no half-written, trusted entry).
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { type BadCheckpoint, makeBadCheckpoints } from '../src/weights/fixtures/bad_checkpoints.ts';
import { DataSession } from './support/data_client.ts';
import { E2E_TMP, GOLDEN_MODELS } from './support/env.ts';
import { expectNoUncaught, listCached, load, openWeightsPage } from './support/weights_page.ts';

const OUT = join(E2E_TMP, `bad-checkpoints-${process.pid}`);
let cases: BadCheckpoint[] = [];

test.beforeAll(async () => {
  mkdirSync(OUT, { recursive: true });
  cases = await makeBadCheckpoints(join(GOLDEN_MODELS, 'tiny-a'), OUT);
});

test.afterAll(() => rmSync(OUT, { recursive: true, force: true }));

test('every bad checkpoint is refused with its own typed error and leaves the cache clean', async ({
  page,
}) => {
  test.setTimeout(300_000);
  const pageErrors = await openWeightsPage(page);
  const data = new DataSession();
  expect(cases.length).toBeGreaterThanOrEqual(10);
  const seen = new Set<string>();
  for (const c of cases) {
    const source = data.url('tmp', `${OUT.slice(E2E_TMP.length + 1)}/${c.name}/`);
    const r = await load(page, { source, stallTimeoutMs: 10_000 });
    expect(r.ok, c.name).toBe(false);
    expect(r.error?.name, `${c.name}: ${r.error?.message}`).toBe(c.errorName);
    expect(r.error?.message, c.name).toContain(c.messageIncludes);
    seen.add(r.error!.message);
    expect(await listCached(page), `${c.name} left something in the cache`).toEqual([]);
  }
  expect(seen.size, 'each defect has its own message').toBe(cases.length);
  await expectNoUncaught(page, pageErrors);
  await data.reset();
});
