// Cache integrity and storage (issues 12 and 17) through the browser loader: a warm load makes no
// request and reads and hashes each shard byte once (the cache's I/O counters), verify: 'full'
// re-hashes on request; the reported quota is advisory, a real QuotaExceededError midway is a
// QuotaError whose partial the next load resumes; a tokenizer file served bad once is not kept, and
// metadata fixed on the server is picked up when revalidation is due; the
// Hub's tree listing sizes the files and its sha256s catch a corrupted transfer.
import { cpSync, mkdirSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { E2E_TMP, GOLDEN_MODELS } from './support/env.ts';
import { expectOk, listCached, load, nodeWeightSummaries, useWeightsPage } from './support/weights_page.ts';

const SHARD1 = 'model-00001-of-00002.safetensors';
const SHARD2 = 'model-00002-of-00002.safetensors';
const TINY_A = join(GOLDEN_MODELS, 'tiny-a');
const size = (f: string, dir = TINY_A) => statSync(join(dir, f)).size;
const shardBytes = size(SHARD1) + size(SHARD2);

const session = useWeightsPage();
const modelUrl = () => session.data.url('shared', 'golden/models/tiny-a/');

const ioStats = (page: import('@playwright/test').Page) => page.evaluate(() => window.weightsTest.ioStats());

test('a warm load makes no request and reads and hashes each shard byte once; verify "full" re-hashes', async ({
  page,
}) => {
  const first = expectOk(await load(page, { source: modelUrl(), readWeights: true }));
  await page.evaluate(() => window.weightsTest.resetIoStats());
  let blocked = 0;
  await page.route('**/__data/**', (route) => {
    blocked++;
    return route.abort();
  });
  const before = (await session.data.requests()).length;
  const warm = expectOk(await load(page, { source: modelUrl(), readWeights: true }));
  expect(blocked).toBe(0);
  expect((await session.data.requests()).length).toBe(before);
  expect(warm.weights).toEqual(first.weights);
  const s = await ioStats(page);
  expect(s.fullPassBytes, 'no hashing pass before the load').toBe(0);
  for (const shard of [SHARD1, SHARD2]) {
    // Never a byte twice; all of it but tensors the engine ignores (a few bytes in tiny-a).
    const n = s.readBytes[`${warm.id}/${shard}`] ?? 0;
    expect(n, `${shard} read at most once`).toBeLessThanOrEqual(size(shard));
    expect(n, `${shard} read`).toBeGreaterThan(size(shard) * 0.99);
  }
  const read = Object.values(s.readBytes).reduce((a, b) => a + b, 0);
  expect(s.readHashedBytes, 'every byte read was checked').toBe(read);

  await page.evaluate(() => window.weightsTest.resetIoStats());
  expectOk(await load(page, { source: modelUrl(), verify: 'full' }));
  expect((await ioStats(page)).fullPassBytes).toBeGreaterThanOrEqual(shardBytes);
  expect(blocked).toBe(0);
});

test("without wasm (a CSP lacking 'wasm-unsafe-eval') the JS hasher does the same job", async ({ page }) => {
  expect(await page.evaluate(() => window.weightsTest.hasherKind())).toBe('wasm');
  await page.addInitScript(() => {
    // What a page whose CSP forbids WebAssembly compilation sees.
    const refuse = () => Promise.reject(new WebAssembly.CompileError('Refused to compile (CSP)'));
    WebAssembly.compile = refuse;
    WebAssembly.instantiate = refuse as typeof WebAssembly.instantiate;
  });
  await session.reopen(page);
  expect(await page.evaluate(() => window.weightsTest.hasherKind())).toBe('js');
  const m = expectOk(await load(page, { source: modelUrl(), readWeights: true }));
  expect(m.weights).toEqual(await nodeWeightSummaries(TINY_A));
  const at = size(SHARD2) - 50;
  await page.evaluate(([id, f, o]) => window.weightsTest.corruptCachedFile(id, f, o), [
    m.id,
    SHARD2,
    at,
  ] as const);
  const again = expectOk(await load(page, { source: modelUrl(), readWeights: true }));
  expect(again.weights).toEqual(m.weights);
});

test('a converted copy is hashed as it is written: its warm load re-hashes nothing', async ({ page }) => {
  const first = expectOk(await load(page, { source: modelUrl(), quant: 'q8', readWeights: true }));
  expect(first.id).toBe(`${first.sourceId}#q8`);
  await page.evaluate(() => window.weightsTest.resetIoStats());
  await page.route('**/__data/**', (route) => route.abort());
  const warm = expectOk(await load(page, { source: modelUrl(), quant: 'q8', readWeights: true }));
  expect(warm.id).toBe(first.id);
  expect(warm.weights).toEqual(first.weights);
  const s = await ioStats(page);
  expect(s.fullPassBytes).toBe(0);
  const read = Object.values(s.readBytes).reduce((a, b) => a + b, 0);
  expect(read).toBeGreaterThan(0);
  expect(s.readHashedBytes).toBe(read);
});

test('a corrupted tensor found while reading is fetched again with one Range request', async ({ page }) => {
  const m = expectOk(await load(page, { source: modelUrl(), readWeights: true }));
  const at = size(SHARD1) - 100; // inside the last tensor, past the header
  await page.evaluate(([id, f, o]) => window.weightsTest.corruptCachedFile(id, f, o), [
    m.id,
    SHARD1,
    at,
  ] as const);
  const before = (await session.data.requests()).length;
  const again = expectOk(await load(page, { source: modelUrl(), readWeights: true }));
  expect(again.weights).toEqual(m.weights);
  const gets = (await session.data.requests()).slice(before).filter((r) => r.method === 'GET');
  expect(gets.map((r) => r.path.split('/').pop())).toEqual([SHARD1]);
  expect(gets[0]!.status).toBe(206);
  expect(gets[0]!.bytes).toBeLessThan(size(SHARD1));
  const third = expectOk(await load(page, { source: modelUrl(), readWeights: true }));
  expect(third.networkBytes).toBe(0);
  expect(third.weights).toEqual(m.weights);
});

test("a reported quota below the need (Chromium's usage + 10 GiB) is a warning, not a refusal", async ({
  page,
}) => {
  const warnings: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'warning') warnings.push(msg.text());
  });
  await page.evaluate(() => {
    // What Chromium ≥ 138 does for a model larger than 10 GiB, scaled down: usage + a cap below the need.
    navigator.storage.estimate = async () => ({ quota: 100_000 + 300_000, usage: 100_000 });
    const w = window as unknown as { persistAsked: number };
    w.persistAsked = 0;
    navigator.storage.persist = async () => {
      w.persistAsked++;
      return false;
    };
  });
  const m = expectOk(await load(page, { source: modelUrl(), readWeights: true }));
  expect(m.weights).toEqual(await nodeWeightSummaries(TINY_A));
  expect(await page.evaluate(() => (window as unknown as { persistAsked: number }).persistAsked)).toBe(1);
  expect(
    warnings.some((w) => /browser reports .* free/.test(w)),
    warnings.join('\n'),
  ).toBe(true);
  expect((await listCached(page))[0]!.complete).toBe(true);
});

test('a write failing with QuotaExceededError midway is a QuotaError; after space is freed the load resumes', async ({
  page,
}) => {
  const inWorker = (req: Parameters<typeof load>[1]) =>
    page.evaluate((r) => window.weightsTest.loadInWorker(r), req);
  // Small spaced chunks, so the disk fills midway through a shard rather than on its first write.
  await session.data.fault({ path: SHARD1, chunkDelayMs: 15, times: 5 });
  const full = await inWorker({ source: modelUrl(), concurrency: 1, quotaAfterBytes: 250_000 });
  expect(full.syncAccessHandles).toBe(true);
  expect(full.error?.name).toBe('QuotaError');
  expect(full.error?.message).toMatch(/storage is full: .* more is needed/);
  expect(full.error?.message).toMatch(/already written is kept/);
  const id = (await listCached(page))[0]!.id;
  expect((await listCached(page))[0]!.complete).toBe(false);
  const partial = await page.evaluate(([i, f]) => window.weightsTest.cachedFileSize(i, f), [
    id,
    SHARD1,
  ] as const);
  expect(partial).toBeGreaterThan(0);
  expect(partial).toBeLessThan(size(SHARD1));

  const m = expectOk(await inWorker({ source: modelUrl(), readWeights: true }));
  expect(m.weights).toEqual(await nodeWeightSummaries(TINY_A));
  const gets = (await session.data.requests()).filter((r) => r.path.endsWith(SHARD1) && r.method === 'GET');
  expect(gets[gets.length - 1]!.range).toBe(`bytes=${partial}-`);
  expect(m.networkBytes).toBeLessThan(shardBytes);
});

test('a tokenizer file served bad once is not kept: the next load fetches it again and passes', async ({
  page,
}) => {
  const dir = join(E2E_TMP, `tok-${session.data.id}`);
  cpSync(TINY_A, dir, { recursive: true });
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ added_tokens_decoder: {} }));
  try {
    await session.data.fault({ path: 'tokenizer_config.json', body: '{"added_tokens_decoder": ' });
    const url = session.data.url('tmp', `tok-${session.data.id}/`);
    const bad = await load(page, { source: url });
    expect(bad.error?.name).toBe('TokenizerError');
    expect(bad.error?.message).toContain('tokenizer_config.json');
    expect((await listCached(page)).every((c) => !c.complete)).toBe(true);
    const m = expectOk(await load(page, { source: url }));
    expect(m.files).toContain('tokenizer_config.json');
    const gets = (await session.data.requests()).filter(
      (r) => r.path.endsWith('tokenizer_config.json') && r.method === 'GET',
    );
    expect(gets).toHaveLength(2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('small metadata files are revalidated when due: a file fixed on the server replaces the cached one', async ({
  page,
}) => {
  const dir = join(E2E_TMP, `reval-${session.data.id}`);
  cpSync(TINY_A, dir, { recursive: true });
  const tok = join(dir, 'tokenizer_config.json');
  writeFileSync(tok, JSON.stringify({ added_tokens_decoder: {} }));
  try {
    const url = session.data.url('tmp', `reval-${session.data.id}/`);
    const m = expectOk(await load(page, { source: url }));
    const fixed = JSON.stringify({ added_tokens_decoder: {}, model_max_length: 4096 });
    writeFileSync(tok, fixed);
    const later = new Date(Date.now() + 60_000);
    utimesSync(tok, later, later); // a new version: new ETag
    const before = (await session.data.requests()).length;
    expectOk(await load(page, { source: url })); // just checked: no request at all
    expect((await session.data.requests()).length).toBe(before);

    await page.evaluate((id) => window.weightsTest.ageMetadata(id), m.id);
    expectOk(await load(page, { source: url }));
    const reqs = (await session.data.requests()).slice(before);
    expect(reqs.filter((r) => r.method === 'HEAD').length).toBeGreaterThan(0);
    expect(reqs.filter((r) => r.method === 'GET').map((r) => r.path.split('/').pop())).toEqual([
      'tokenizer_config.json',
    ]);
    const cached = await page.evaluate(([id, f]) => window.weightsTest.cachedFileSize(id, f), [
      m.id,
      'tokenizer_config.json',
    ] as const);
    expect(cached).toBe(Buffer.byteLength(fixed));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the Hub's tree listing sizes the files and its sha256 catches a corrupted transfer", async ({
  page,
}) => {
  const hubDir = join(E2E_TMP, `hubtree-${session.data.id}`);
  mkdirSync(join(hubDir, 'org', 'repo', 'resolve'), { recursive: true });
  symlinkSync(TINY_A, join(hubDir, 'org', 'repo', 'resolve', 'main'));
  try {
    await session.data.fault({ path: SHARD2, flipByteAt: size(SHARD2) - 10 });
    const hubUrl = session.data.url('tmp', `hubtree-${session.data.id}`);
    const m = expectOk(await load(page, { source: 'org/repo', hubUrl, readWeights: true }));
    expect(m.weights).toEqual(await nodeWeightSummaries(TINY_A));
    const reqs = await session.data.requests();
    expect(reqs.filter((r) => r.path.endsWith('/api/models/org/repo/tree/main'))).toHaveLength(1);
    expect(
      reqs.filter((r) => r.method === 'HEAD'),
      'sizes come from the listing',
    ).toEqual([]);
    // Optional files the listing does not name are not probed.
    for (const name of [
      'tiktoken.model',
      'tokenizer_config.json',
      'tokenizer.json',
      'generation_config.json',
    ])
      expect(
        reqs.filter((r) => r.path.endsWith(`/${name}`)),
        name,
      ).toEqual([]);
    const shard2 = reqs.filter((r) => r.path.endsWith(SHARD2) && r.method === 'GET');
    expect(
      shard2.map((r) => r.status),
      'the flipped transfer was refused and fetched again',
    ).toEqual([200, 200]);
  } finally {
    rmSync(hubDir, { recursive: true, force: true });
  }
});
