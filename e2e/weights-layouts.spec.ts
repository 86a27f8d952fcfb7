// Other checkpoint layouts over HTTP: one unsharded model.safetensors (no index), and a folder
// converted by `kimi-vl convert` (kimi-vl-manifest.json, whose shard sha256s are checked on download).
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { convertCheckpoint } from '../src/weights/convert_node.ts';
import { openCheckpointDir } from '../src/weights/node_source.ts';
import { E2E_TMP, GOLDEN_MODELS } from './support/env.ts';
import { safetensorsFileOf } from './support/safetensors_file.ts';
import { expectOk, listCached, load, nodeWeightSummaries, useWeightsPage } from './support/weights_page.ts';

const TINY_A = join(GOLDEN_MODELS, 'tiny-a');
const OUT = join(E2E_TMP, `layouts-${process.pid}`);

/** tiny-a's tensors rewritten as one model.safetensors, same names, dtypes and bytes. */
async function writeSingleFile(dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  for (const f of ['config.json', 'preprocessor_config.json']) copyFileSync(join(TINY_A, f), join(dir, f));
  const { source } = await openCheckpointDir(TINY_A);
  const names = source.list().sort();
  const out = await safetensorsFileOf(source, names);
  writeFileSync(join(dir, 'model.safetensors'), out);
}

test.beforeAll(async () => {
  await writeSingleFile(join(OUT, 'single'));
  await convertCheckpoint(TINY_A, join(OUT, 'converted-q8'), { quant: 'q8' });
});

test.afterAll(() => rmSync(OUT, { recursive: true, force: true }));

const session = useWeightsPage();
const url = (name: string) => session.data.url('tmp', `${OUT.slice(E2E_TMP.length + 1)}/${name}/`);

test('one unsharded model.safetensors without an index', async ({ page }) => {
  const m = expectOk(await load(page, { source: url('single'), readWeights: true }));
  expect(m.format).toBe('hf');
  expect(m.weights).toEqual(await nodeWeightSummaries(TINY_A));
  const paths = (await session.data.requests())
    .filter((r) => r.status < 400)
    .map((r) => `${r.method} ${r.path.split('/').pop()}`);
  expect(paths).toContain('HEAD model.safetensors');
  expect(paths).toContain('GET model.safetensors');
});

test('a converted (manifest) folder loads as is, its sha256s checked', async ({ page }) => {
  const dir = join(OUT, 'converted-q8');
  const m = expectOk(await load(page, { source: url('converted-q8'), quant: 'q8', readWeights: true }));
  expect(m.format).toBe('kimi-vl-web');
  expect(m.id).toBe(m.sourceId); // served already converted: no second, converted cache entry
  expect(m.weights).toEqual(await nodeWeightSummaries(dir, 'q8'));
  expect((await listCached(page)).map((c) => [c.format, c.complete])).toEqual([['manifest', true]]);
});

test('a converted shard whose bytes differ from the manifest sha256 is refused', async ({ page }) => {
  const dir = join(OUT, 'converted-q8');
  const bad = join(OUT, 'converted-bad');
  rmSync(bad, { recursive: true, force: true });
  mkdirSync(bad);
  const manifest = JSON.parse(readFileSync(join(dir, 'kimi-vl-manifest.json'), 'utf8'));
  manifest.shards[0].sha256 = '0'.repeat(64);
  for (const f of readdirSync(dir)) copyFileSync(join(dir, f), join(bad, f));
  writeFileSync(join(bad, 'kimi-vl-manifest.json'), JSON.stringify(manifest));
  const r = await load(page, { source: url('converted-bad'), maxAttempts: 2 });
  expect(r.error?.name).toBe('DownloadError');
  expect(r.error?.message).toContain('expected 0000');
  expect((await listCached(page)).every((c) => !c.complete)).toBe(true);
});
