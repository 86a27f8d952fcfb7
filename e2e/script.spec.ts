// The drop-in script (vite --mode script → kimi-vl.js), served from a second origin, on a page with a
// strict Content-Security-Policy (no 'unsafe-eval', no 'unsafe-inline'): with `worker-src blob:` the
// engine runs in its inlined worker; without it, the load fails with WorkerStartError, and with requireWorker: false it runs on the page thread.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, type Page, test } from '@playwright/test';
import { build } from 'vite';
import { DataSession } from './support/data_client.ts';
import { E2E_PORT, E2E_TMP, REPO_ROOT } from './support/env.ts';

const session = new DataSession();
const OUT_DIR = join(E2E_TMP, 'script-build');
let scriptUrl: string;

test.beforeAll(async () => {
  test.setTimeout(120_000);
  const outDir = OUT_DIR;
  mkdirSync(outDir, { recursive: true });
  await build({
    configFile: join(REPO_ROOT, 'vite.config.ts'),
    mode: 'script',
    logLevel: 'warn',
    build: { outDir, emptyOutDir: true, copyPublicDir: false },
  });
  // localhost vs 127.0.0.1: the same server, two origins.
  scriptUrl = session
    .url('tmp', 'script-build/kimi-vl.js')
    .replace(`localhost:${E2E_PORT}`, `127.0.0.1:${E2E_PORT}`);
});

function csp(workerSrc: string): string {
  return [
    "default-src 'self'",
    `script-src 'self' http://127.0.0.1:${E2E_PORT}`,
    workerSrc,
    "connect-src 'self'",
    "img-src 'self' blob: data:",
    "style-src 'self'",
  ]
    .filter(Boolean)
    .join('; ');
}

/** A real page from the test server (localhost) whose policy is a <meta> CSP (no inline script). */
async function openStrictPage(page: Page, policy: string, name: string): Promise<string[]> {
  const violations: string[] = [];
  page.on('console', (m) => {
    if (/Content Security Policy|unsafe-eval/i.test(m.text())) violations.push(m.text());
    if (m.type() === 'error') console.log(`[page] ${m.text()}`);
  });
  writeFileSync(
    join(OUT_DIR, `${name}.html`),
    `<!doctype html><html><head><meta http-equiv="Content-Security-Policy" content="${policy}">` +
      `<script src="${scriptUrl}"></script></head><body>strict CSP</body></html>`,
  );
  // Vite serves the scratch folder under /@fs/ as text/html (the data routes serve octet-stream).
  await page.goto(`http://localhost:${E2E_PORT}/@fs${OUT_DIR}/${name}.html`);
  // Polled with evaluate: waitForFunction's predicate would need eval, which this CSP forbids.
  await expect.poll(() => page.evaluate(() => 'KimiVL' in globalThis), { timeout: 30_000 }).toBe(true);
  return violations;
}

async function answer(page: Page, requireWorker?: boolean) {
  return page.evaluate(async (requireWorker) => {
    const { KimiVL } = globalThis as unknown as { KimiVL: typeof import('../src/index.ts').KimiVL };
    const engine = await KimiVL.load('/models/kimi-vl-tiny/', { contextBudget: 128, requireWorker });
    let tokens = 0;
    for await (const e of engine.chat([{ role: 'user', content: 'hello' }], {
      maxTokens: 4,
      temperature: 0,
      ignoreStop: true,
      tokenEvents: true,
    }))
      if (e.type === 'token') tokens++;
    const mode = engine.mode;
    await engine.unload();
    return { mode, tokens };
  }, requireWorker);
}

test('cross-origin script under a strict CSP with worker-src blob: runs in a worker', async ({ page }) => {
  test.setTimeout(120_000);
  const violations = await openStrictPage(page, csp('worker-src blob:'), 'with-blob-workers');
  expect(await answer(page)).toEqual({ mode: 'worker', tokens: 4 });
  expect(violations.filter((v) => /eval/i.test(v))).toEqual([]);
});

test('under a strict CSP without worker-src the load fails with WorkerStartError, never silently', async ({
  page,
}) => {
  test.setTimeout(120_000);
  await openStrictPage(page, csp(''), 'without-workers');
  const failure = await answer(page).then(
    () => null,
    (e: Error) => e.message,
  );
  expect(failure).toMatch(/WorkerStartError|engine worker/);
});

test('under a strict CSP without worker-src, requireWorker: false runs on the page thread', async ({
  page,
}) => {
  test.setTimeout(120_000);
  await openStrictPage(page, csp(''), 'without-workers');
  expect(await answer(page, false)).toEqual({ mode: 'main-thread', tokens: 4 });
});
