// Runs engine code in headless Chromium for the CLI (doctor, golden, run, bench). In a clone of the
// repository a Vite dev server serves the TypeScript sources (the same code the page uses, unbundled);
// from the npm package a small static server serves the prebuilt page in dist/harness/ (no Vite needed).
// Playwright drives a Chromium found by scripts/chromium.ts, with the per-user profile (user_cache.ts).
import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { assertChromium, CHROMIUM_PATH, chromiumArgs } from '../../scripts/chromium.ts';
import { createStaticServer, fsUrlPath, listen } from './static_server.ts';
import { acquireProfile, HARNESS_PORT, userCacheDir } from './user_cache.ts';

/** The repository root in a clone; the package root when installed (dist/cli/ is as deep as src/cli/). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Present in a clone only: the harness page's sources (served by Vite). */
const HARNESS_SOURCE = fileURLToPath(new URL('./pages/harness.html', import.meta.url));
/** Present in the package only: the harness page built by `vite build --mode harness`. */
const HARNESS_BUILT = fileURLToPath(new URL('../harness/', import.meta.url));

export interface BrowserSession {
  page: Page;
  baseUrl: string;
  /** URL under which an absolute local path is served (/@fs/…). */
  fsUrl(absPath: string): string;
  /** The per-user cache folder holding the browser profile (and so the model cache). */
  cacheDir: string;
  /** false when another kimi-vl held the profile and this run uses a temporary one (no model cache). */
  sharedProfile: boolean;
}

export interface BrowserOptions {
  /** Use the machine's GPU instead of SwiftShader. */
  hardware?: boolean;
  /** Forward the page's console to stderr. */
  verbose?: boolean;
  /**
   * Harness tasks whose modules live outside src/ (task name → repository-relative path of a module
   * exporting `runTask`): the caller names them, so the engine's page never imports them. Repository only.
   */
  taskModules?: Record<string, string>;
}

interface PageServer {
  port: number;
  harnessPath: string;
  close(): Promise<void>;
}

async function servePages(): Promise<PageServer> {
  if (existsSync(HARNESS_SOURCE)) {
    // Repository: Vite (a devDependency) serves the sources.
    const { createServer } = await import('vite');
    const start = (port: number) =>
      createServer({
        root: REPO_ROOT,
        configFile: false,
        logLevel: 'silent',
        server: { host: '127.0.0.1', port, strictPort: true, fs: { strict: false }, hmr: false, watch: null },
      }).then(async (s) => {
        await s.listen().catch(async (e) => {
          await s.close();
          throw e;
        });
        return s;
      });
    const server = await start(HARNESS_PORT).catch(() => start(0));
    const addr = server.httpServer?.address();
    if (!addr || typeof addr === 'string') throw new Error('vite dev server did not report a port');
    return { port: addr.port, harnessPath: '/src/cli/pages/harness.html', close: () => server.close() };
  }
  if (!existsSync(HARNESS_BUILT))
    throw new Error(`kimi-vl: the harness page is missing (${HARNESS_BUILT}); reinstall kimi-vl-web`);
  const server: Server = createStaticServer(HARNESS_BUILT);
  const port = await listen(server, HARNESS_PORT);
  return {
    port,
    harnessPath: '/harness.html',
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}

export async function withBrowser<T>(
  opts: BrowserOptions,
  fn: (s: BrowserSession) => Promise<T>,
): Promise<T> {
  assertChromium();
  const cacheDir = userCacheDir();
  const profile = acquireProfile(cacheDir);
  let pages: PageServer | null = null;
  let context: BrowserContext | null = null;
  try {
    pages = await servePages();
    if (!profile.shared || pages.port !== HARNESS_PORT)
      process.stderr.write(
        `kimi-vl: another kimi-vl is running (${profile.shared ? `port ${HARNESS_PORT} taken` : 'profile in use'}); ` +
          'this run does not see the model cache in ' +
          `${cacheDir} (set KIMI_VL_CACHE and KIMI_VL_PORT to run several side by side)\n`,
      );
    const baseUrl = `http://localhost:${pages.port}`;
    context = await chromium.launchPersistentContext(profile.dir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: chromiumArgs({ hardware: opts.hardware }),
    });
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (m) => {
      // Probing for optional files (e.g. a converted checkpoint's manifest) 404s by design; --verbose
      // lists every failed response with its URL below.
      const probe = m.text().startsWith('Failed to load resource');
      if (opts.verbose || (m.type() === 'error' && !probe))
        process.stderr.write(`[page ${m.type()}] ${m.text()}\n`);
    });
    page.on('pageerror', (e) => process.stderr.write(`[page error] ${e.message}\n`));
    page.on('response', (r) => {
      if (opts.verbose && r.status() >= 400) process.stderr.write(`[page http ${r.status()}] ${r.url()}\n`);
    });
    await page.goto(`${baseUrl}${pages.harnessPath}`);
    await page.waitForFunction(
      () => (globalThis as { kimiHarness?: unknown }).kimiHarness !== undefined,
      null,
      { timeout: 120_000 },
    );
    for (const [name, path] of Object.entries(opts.taskModules ?? {}))
      await page.evaluate(
        ([n, u]) =>
          (
            globalThis as unknown as { kimiHarness: { addTaskModule(n: string, u: string): void } }
          ).kimiHarness.addTaskModule(n as string, u as string),
        [name, `/${path}`] as const,
      );
    return await fn({
      page,
      baseUrl,
      fsUrl: (p) => `${baseUrl}${fsUrlPath(p)}`,
      cacheDir,
      sharedProfile: profile.shared,
    });
  } finally {
    await context?.close();
    await pages?.close();
    profile.release();
  }
}
