// preprocessor_config.json is parsed with config.json, before any shard (#12): a malformed file fails
// with a ConfigError naming the field while no .safetensors byte has been requested (the data server's
// request log), and leaves nothing in the cache; a file without merge_kernel_size (valid for HF, whose
// default is [2, 2]) loads.
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { DataSession } from './support/data_client.ts';
import { E2E_TMP, GOLDEN_MODELS } from './support/env.ts';
import { expectNoUncaught, expectOk, listCached, load, openWeightsPage } from './support/weights_page.ts';

const DIR = `preprocessor-${process.pid}`;
const OUT = join(E2E_TMP, DIR);

/** A copy of tiny-a whose preprocessor_config.json is `edit` of the original. */
function variant(name: string, edit: (j: Record<string, unknown>) => void): string {
  const dir = join(OUT, name);
  cpSync(join(GOLDEN_MODELS, 'tiny-a'), dir, { recursive: true });
  const file = join(dir, 'preprocessor_config.json');
  const j = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  edit(j);
  writeFileSync(file, JSON.stringify(j));
  return `${DIR}/${name}/`;
}

test.beforeAll(() => mkdirSync(OUT, { recursive: true }));
test.afterAll(() => rmSync(OUT, { recursive: true, force: true }));

test('a malformed preprocessor fails before any shard is requested', async ({ page }) => {
  const pageErrors = await openWeightsPage(page);
  const data = new DataSession();
  const bad = [
    variant('merge-3x3', (j) => {
      j.merge_kernel_size = [3, 3];
    }),
    variant('std-zero', (j) => {
      j.image_std = [0.5, 0, 0.5];
    }),
    variant('limit-huge', (j) => {
      j.in_token_limit = 10 ** 9;
    }),
  ];
  const field = ['merge_kernel_size', 'image_std', 'in_token_limit'];
  for (const [i, path] of bad.entries()) {
    await data.reset();
    const r = await load(page, { source: data.url('tmp', path) });
    expect(r.ok, path).toBe(false);
    expect(r.error?.name, r.error?.message).toBe('ConfigError');
    expect(r.error?.message).toContain(`preprocessor_config.json: ${field[i]}`);
    const requests = await data.requests();
    expect(requests.some((q) => q.path.endsWith('preprocessor_config.json'))).toBe(true);
    expect(
      requests.filter((q) => q.path.endsWith('.safetensors')),
      `${path}: shard requests before the preprocessor was judged`,
    ).toEqual([]);
    expect(await listCached(page)).toEqual([]);
  }
  await expectNoUncaught(page, pageErrors);
});

test('a preprocessor without merge_kernel_size loads (HF default [2, 2])', async ({ page }) => {
  const pageErrors = await openWeightsPage(page);
  const data = new DataSession();
  const path = variant('no-merge', (j) => {
    delete j.merge_kernel_size;
  });
  const m = expectOk(await load(page, { source: data.url('tmp', path) }));
  expect(m.preprocessorPatchSize).toBe(14);
  await expectNoUncaught(page, pageErrors);
  await data.reset();
});
