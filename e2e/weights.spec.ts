// Browser weights loader end to end: download with progress, cache-only second load, resume after a
// dropped connection or an abort, stall timeout, corrupt cache entries, on-the-fly q8 cache (quota and
// integrity: weights-integrity.spec.ts),
// Hugging Face URL layout, local files. Data: ../shared/golden/models/tiny-{a,b} served with Range.
import { cpSync, mkdirSync, rmSync, statSync, symlinkSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { E2E_TMP, GOLDEN_MODELS } from './support/env.ts';
import { expectOk, listCached, load, nodeWeightSummaries, useWeightsPage } from './support/weights_page.ts';

const SHARD1 = 'model-00001-of-00002.safetensors';
const SHARD2 = 'model-00002-of-00002.safetensors';
const TINY_A = join(GOLDEN_MODELS, 'tiny-a');
const shardBytes = (dir: string) => statSync(join(dir, SHARD1)).size + statSync(join(dir, SHARD2)).size;

const session = useWeightsPage();
const modelUrl = (name = 'tiny-a') => session.data.url('shared', `golden/models/${name}/`);

test('downloads with progress to 100%, then loads again with the network blocked', async ({ page }) => {
  const first = await load(page, { source: modelUrl(), readWeights: true, concurrency: 2 });
  const m = expectOk(first);
  expect(m.format).toBe('hf');
  expect(m.networkBytes).toBeGreaterThanOrEqual(shardBytes(TINY_A));
  expect(m.weights).toEqual(await nodeWeightSummaries(TINY_A));

  const downloads = first.events.filter((e) => e.phase === 'download');
  const lastDownload = downloads[downloads.length - 1]!;
  expect(lastDownload.bytesTotal).toBe(shardBytes(TINY_A));
  expect(lastDownload.bytesDone).toBe(lastDownload.bytesTotal);
  expect(lastDownload.files.map((f) => f.name).sort()).toEqual([SHARD1, SHARD2]);
  for (const f of lastDownload.files) expect(f.bytesDone).toBe(f.bytesTotal);
  const fractions = first.events.map((e) => e.fraction);
  expect(fractions[fractions.length - 1]).toBe(1);
  expect(first.events.some((e) => e.bytesPerSecond > 0)).toBe(true);

  const listed = await listCached(page);
  expect(listed).toHaveLength(1);
  expect(listed[0]).toMatchObject({ id: m.id, complete: true });
  expect(listed[0]!.bytes).toBeGreaterThan(shardBytes(TINY_A));

  const before = (await session.data.requests()).length;
  let blocked = 0;
  await page.route('**/__data/**', (route) => {
    blocked++;
    return route.abort();
  });
  const second = await load(page, { source: modelUrl(), readWeights: true });
  const m2 = expectOk(second);
  expect(blocked).toBe(0);
  expect((await session.data.requests()).length).toBe(before);
  expect(m2.networkBytes).toBe(0);
  expect(m2.weights).toEqual(m.weights);
  expect(second.events[second.events.length - 1]!.fraction).toBe(1);
});

test('a connection cut midway resumes with a Range request', async ({ page }) => {
  const cut = 200_000;
  await session.data.fault({ path: SHARD1, cutAfterBytes: cut });
  const m = expectOk(await load(page, { source: modelUrl(), readWeights: true }));
  expect(m.weights).toEqual(await nodeWeightSummaries(TINY_A));
  const gets = (await session.data.requests()).filter((r) => r.path.endsWith(SHARD1) && r.method === 'GET');
  expect(gets).toHaveLength(2);
  expect(gets[0]!.bytes).toBeLessThanOrEqual(cut);
  expect(gets[1]!.status).toBe(206);
  const resumedAt = Number(/bytes=(\d+)-/.exec(gets[1]!.range ?? '')?.[1]);
  expect(resumedAt).toBeGreaterThan(0);
  const size = statSync(join(TINY_A, SHARD1)).size;
  expect(gets[1]!.bytes).toBe(size - resumedAt);
  expect(await session.data.bytesServed(SHARD1)).toBeLessThan(size + cut);
});

test('an aborted load leaves a resumable partial that the next load continues', async ({ page }) => {
  await session.data.fault({ path: SHARD1, stallAfterBytes: 150_000 });
  const aborted = await load(page, { source: modelUrl(), abortAfterBytes: 100_000, concurrency: 1 });
  expect(aborted.ok).toBe(false);
  expect(aborted.error?.name).toBe('AbortError');
  const listed = await listCached(page);
  expect(listed).toHaveLength(1);
  expect(listed[0]!.complete).toBe(false);
  const partial = await page.evaluate(([id, f]) => window.weightsTest.cachedFileSize(id, f), [
    listed[0]!.id,
    SHARD1,
  ] as const);
  expect(partial).toBeGreaterThan(0);
  expect(partial).toBeLessThan(statSync(join(TINY_A, SHARD1)).size);

  const m = expectOk(await load(page, { source: modelUrl(), readWeights: true }));
  expect(m.weights).toEqual(await nodeWeightSummaries(TINY_A));
  const gets = (await session.data.requests()).filter((r) => r.path.endsWith(SHARD1) && r.method === 'GET');
  expect(gets[gets.length - 1]!.range).toBe(`bytes=${partial}-`);
  expect(m.networkBytes).toBeLessThan(shardBytes(TINY_A));
  expect((await listCached(page))[0]!.complete).toBe(true);
});

test('a file that changed on the server since the partial was written is restarted, not spliced', async ({
  page,
}) => {
  const dir = join(E2E_TMP, `changed-${session.data.id}`);
  cpSync(TINY_A, dir, { recursive: true });
  try {
    await session.data.fault({ path: SHARD1, stallAfterBytes: 150_000 });
    const url = session.data.url('tmp', `changed-${session.data.id}/`);
    const aborted = await load(page, { source: url, abortAfterBytes: 100_000, concurrency: 1 });
    expect(aborted.error?.name).toBe('AbortError');
    const later = new Date(Date.now() + 60_000);
    utimesSync(join(dir, SHARD1), later, later); // a new version: new ETag and Last-Modified
    const m = expectOk(await load(page, { source: url, readWeights: true }));
    expect(m.weights).toEqual(await nodeWeightSummaries(dir));
    const gets = (await session.data.requests()).filter((r) => r.path.endsWith(SHARD1) && r.method === 'GET');
    expect(gets.map((g) => [g.status, g.range !== null])).toEqual([
      [200, false],
      [206, true],
      [200, false],
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a stalled server is a DownloadError after the timeout, never a hang', async ({ page }) => {
  await session.data.fault({ path: SHARD2, stallAfterBytes: 50_000, times: 5 });
  const r = await load(page, { source: modelUrl(), stallTimeoutMs: 800, maxAttempts: 2 });
  expect(r.error?.name).toBe('DownloadError');
  expect(r.error?.message).toContain('stalled');
  expect((await listCached(page))[0]?.complete).toBe(false);
  await session.data.reset();
  expectOk(await load(page, { source: modelUrl() }));
});

test('a server that ignores Range restarts the file and still ends correct', async ({ page }) => {
  await session.data.fault({ path: SHARD2, cutAfterBytes: 100_000 });
  await session.data.fault({ path: SHARD2, ignoreRange: true });
  const m = expectOk(await load(page, { source: modelUrl(), readWeights: true }));
  expect(m.weights).toEqual(await nodeWeightSummaries(TINY_A));
  const gets = (await session.data.requests()).filter((r) => r.path.endsWith(SHARD2) && r.method === 'GET');
  expect(gets.map((g) => g.status)).toEqual([200, 200]);
  expect(gets[1]!.range).not.toBeNull();
});

test('a corrupted cached file is detected and fetched again', async ({ page }) => {
  const m = expectOk(await load(page, { source: modelUrl(), readWeights: true }));
  await page.evaluate(([id, f]) => window.weightsTest.corruptCachedFile(id, f, 4096), [
    m.id,
    SHARD2,
  ] as const);
  const before = (await session.data.requests()).length;
  const again = expectOk(await load(page, { source: modelUrl(), readWeights: true }));
  const refetched = (await session.data.requests()).slice(before).filter((r) => r.method === 'GET');
  expect(refetched.map((r) => r.path.split('/').pop())).toEqual([SHARD2]);
  expect(again.weights).toEqual(m.weights);
  // And the replacement is trusted again: a third load is network-free.
  const third = expectOk(await load(page, { source: modelUrl() }));
  expect(third.networkBytes).toBe(0);
});

test('q8 on the fly: only the converted form is cached (by default) and read on the next load', async ({
  page,
}) => {
  const first = expectOk(await load(page, { source: modelUrl(), quant: 'q8', readWeights: true }));
  expect(first.format).toBe('kimi-vl-web');
  expect(first.id).toBe(`${first.sourceId}#q8`);
  expect(first.weights).toEqual(await nodeWeightSummaries(TINY_A, 'q8'));
  expect((await listCached(page)).map((c) => [c.id, c.complete])).toEqual([[first.id, true]]);

  await page.route('**/__data/**', (route) => route.abort());
  const second = expectOk(await load(page, { source: modelUrl(), quant: 'q8', readWeights: true }));
  expect(second.networkBytes).toBe(0);
  expect(second.format).toBe('kimi-vl-web');
  expect(second.weights).toEqual(first.weights);
  expect(second.bytesRead).toBeLessThan(shardBytes(TINY_A));

  expect(await page.evaluate((id) => window.weightsTest.deleteCachedModel(id), first.sourceId)).toBe(true);
  expect(await listCached(page)).toEqual([]);
});

test('keepOriginal keeps the bf16 original too, as a separate entry with its own delete', async ({
  page,
}) => {
  const m = expectOk(await load(page, { source: modelUrl(), quant: 'q8', keepOriginal: true }));
  expect((await listCached(page)).map((c) => [c.id, c.complete])).toEqual([
    [m.sourceId, true],
    [m.id, true],
  ]);
  const del = (id: string, converted: boolean) =>
    page.evaluate(([i, c]) => window.weightsTest.deleteCachedModel(i, { converted: c }), [
      id,
      converted,
    ] as const);
  expect(await del(m.sourceId, false)).toBe(true); // the original only
  expect((await listCached(page)).map((c) => c.id)).toEqual([m.id]);
  await page.route('**/__data/**', (route) => route.abort());
  expect((await load(page, { source: modelUrl(), quant: 'q8' })).model?.networkBytes).toBe(0);
  expect(await del(m.id, true)).toBe(true); // the converted copy alone
  expect(await listCached(page)).toEqual([]);
});

test('a Hugging Face repo id resolves to <hub>/<org>/<repo>/resolve/<rev>/', async ({ page }) => {
  const hubDir = join(E2E_TMP, `hub-${session.data.id}`);
  mkdirSync(join(hubDir, 'org', 'repo', 'resolve'), { recursive: true });
  symlinkSync(join(GOLDEN_MODELS, 'tiny-b'), join(hubDir, 'org', 'repo', 'resolve', 'main'));
  try {
    const hubUrl = session.data.url('tmp', `hub-${session.data.id}`);
    const m = expectOk(await load(page, { source: 'org/repo', hubUrl, readWeights: true }));
    expect(m.sourceId).toBe(`hf:org/repo@main via ${hubUrl}`);
    expect(m.weights).toEqual(await nodeWeightSummaries(join(GOLDEN_MODELS, 'tiny-b')));
    const paths = (await session.data.requests()).map((r) => r.path);
    expect(paths).toContain(`/tmp/hub-${session.data.id}/org/repo/resolve/main/config.json`);
    expect(paths).toContain(`/tmp/hub-${session.data.id}/org/repo/resolve/main/${SHARD1}`);
    // "@rev" and the object form name the same cache entry: no network the second time.
    await page.route('**/__data/**', (route) => route.abort());
    const again = expectOk(await load(page, { source: { repo: 'org/repo', revision: 'main', hubUrl } }));
    expect(again.sourceId).toBe(m.sourceId);
    expect(again.networkBytes).toBe(0);
  } finally {
    rmSync(hubDir, { recursive: true, force: true });
  }
});

test('local File objects load without the cache', async ({ page }) => {
  const dir = join(GOLDEN_MODELS, 'tiny-b');
  const names = ['config.json', 'preprocessor_config.json', 'model.safetensors.index.json', SHARD1, SHARD2];
  const localFiles = Object.fromEntries(
    names.map((n) => [n, session.data.url('shared', `golden/models/tiny-b/${n}`)]),
  );
  const m = expectOk(await load(page, { source: '', localFiles, readWeights: true }));
  expect(m.sourceId).toMatch(/^local:/);
  expect(m.preprocessorPatchSize).toBe(14);
  expect(m.weights).toEqual(await nodeWeightSummaries(dir));
  expect(await listCached(page)).toEqual([]);
});

test('in a worker (sync access handles): abort, resume, q4 conversion, then cache-only', async ({ page }) => {
  const inWorker = (req: Parameters<typeof load>[1]) =>
    page.evaluate((r) => window.weightsTest.loadInWorker(r), req);
  await session.data.fault({ path: SHARD1, stallAfterBytes: 150_000 });
  const aborted = await inWorker({ source: modelUrl(), abortAfterBytes: 100_000, concurrency: 1 });
  expect(aborted.syncAccessHandles).toBe(true);
  expect(aborted.error?.name).toBe('AbortError');
  const id = (await listCached(page))[0]!.id;
  const partial = await page.evaluate(([i, f]) => window.weightsTest.cachedFileSize(i, f), [
    id,
    SHARD1,
  ] as const);
  expect(partial).toBeGreaterThan(0);

  const m = expectOk(await inWorker({ source: modelUrl(), quant: 'q4', readWeights: true }));
  const gets = (await session.data.requests()).filter((r) => r.path.endsWith(SHARD1) && r.method === 'GET');
  expect(gets[gets.length - 1]!.range).toBe(`bytes=${partial}-`);
  expect(m.id).toBe(`${id}#q4`);
  expect(m.weights).toEqual(await nodeWeightSummaries(TINY_A, 'q4'));

  await page.route('**/__data/**', (route) => route.abort());
  const again = expectOk(await inWorker({ source: modelUrl(), quant: 'q4', readWeights: true }));
  expect(again.networkBytes).toBe(0);
  expect(again.weights).toEqual(m.weights);
  expect(again.bytesRead).toBeLessThan(shardBytes(TINY_A));
});
