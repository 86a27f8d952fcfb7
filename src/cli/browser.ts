// Runs engine code in headless Chromium for the CLI (doctor, golden, run, bench): a Vite dev server
// serves the repository (so the same TypeScript the page uses runs unbundled), Playwright drives Chromium.
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { createServer, type ViteDevServer } from 'vite';
import { assertChromium, CHROMIUM_PATH, chromiumArgs } from '../../scripts/chromium.ts';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface BrowserSession {
  page: Page;
  baseUrl: string;
  /** URL under which an absolute local path is served (vite's /@fs/). */
  fsUrl(absPath: string): string;
}

export interface BrowserOptions {
  /** Use the machine's GPU instead of SwiftShader. */
  hardware?: boolean;
  /** Forward the page's console to stderr. */
  verbose?: boolean;
  /**
   * Harness tasks whose modules live outside src/ (task name → repository-relative path of a module
   * exporting `runTask`): the caller names them, so the engine's page never imports them.
   */
  taskModules?: Record<string, string>;
}

export async function withBrowser<T>(
  opts: BrowserOptions,
  fn: (s: BrowserSession) => Promise<T>,
): Promise<T> {
  assertChromium();
  let server: ViteDevServer | null = null;
  let browser: Browser | null = null;
  try {
    server = await createServer({
      root: REPO_ROOT,
      configFile: false,
      logLevel: 'error',
      server: { host: '127.0.0.1', port: 0, fs: { strict: false }, hmr: false, watch: null },
    });
    await server.listen();
    const addr = server.httpServer?.address();
    if (!addr || typeof addr === 'string') throw new Error('vite dev server did not report a port');
    const baseUrl = `http://localhost:${addr.port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      args: chromiumArgs({ hardware: opts.hardware }),
    });
    const page = await browser.newPage();
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
    await page.goto(`${baseUrl}/src/cli/pages/harness.html`);
    await page.waitForFunction(
      () => (globalThis as { kimiHarness?: unknown }).kimiHarness !== undefined,
      null,
      {
        timeout: 120_000,
      },
    );
    for (const [name, path] of Object.entries(opts.taskModules ?? {}))
      await page.evaluate(
        ([n, u]) =>
          (
            globalThis as unknown as { kimiHarness: { addTaskModule(n: string, u: string): void } }
          ).kimiHarness.addTaskModule(n as string, u as string),
        [name, `/${path}`] as const,
      );
    return await fn({ page, baseUrl, fsUrl: (p) => `${baseUrl}/@fs${p}` });
  } finally {
    await browser?.close();
    await server?.close();
  }
}
