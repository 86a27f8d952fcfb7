// The README's first command, exactly as a user runs it: `npm start` (scripts/start.sh → the real Vite
// dev server, not the e2e test server) must open the demo with the bundled model loaded and no error.
// Vite's dev server answers unknown paths with index.html and status 200 unless the demo config turns
// that off; the loader's probes for optional files (kimi-vl-manifest.json) must see a 404. Then the
// network is cut and the page reloaded: the service worker must have kept every asset the page uses
// (the stylesheets included, which Vite answers as JavaScript unless asked for CSS), so the page comes
// back styled at phone and desktop widths and the model answers from its cache. Before that, the bundled
// Instruct model must answer the first example (a generated picture) exactly as the task defines.
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { expect, type Page, test } from '@playwright/test';
import { EXAMPLE_SCENES } from '../demo/shapes.ts';
import { answer } from '../scripts/train/pictures.ts';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function waitForServer(url: string, child: ChildProcess, log: () => string, ms: number) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}:\n${log()}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`npm start did not serve ${url} within ${ms} ms:\n${log()}`);
}

async function styles(page: Page) {
  return page.evaluate(() => ({
    body: getComputedStyle(document.body).display,
    composer: getComputedStyle(document.querySelector('#composer')!).position,
    send: getComputedStyle(document.querySelector('#send')!).backgroundColor,
  }));
}

test('npm start: the dev server opens the demo with the bundled model, answers the first example right, also offline', async ({
  page,
  context,
}) => {
  test.setTimeout(300_000);
  const port = await freePort();
  let output = '';
  const child = spawn('npm', ['start'], {
    env: { ...process.env, PORT: String(port) },
    detached: true, // its own process group, so the whole tree (npm → bash → vite) stops with it
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  try {
    const base = `http://localhost:${port}`;
    await waitForServer(`${base}/`, child, () => output, 90_000);
    const probe = await fetch(`${base}/models/kimi-vl-tiny/kimi-vl-manifest.json`);
    expect(probe.status, 'an optional file the model lacks is a 404, not the SPA page').toBe(404);

    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${base}/`);
    await expect(page.locator('#status')).toHaveAttribute('data-state', 'ready', { timeout: 90_000 });
    await expect(page.locator('#load-error')).toBeHidden();
    await expect(page.locator('#send')).toBeEnabled();
    const online = await styles(page);
    expect(online).toMatchObject({ body: 'flex', composer: 'sticky' });

    // The first example, one click, greedy: the right answer about its picture.
    const question = 'What is in this picture?';
    await page.fill('#max-tokens', '64');
    await page.fill('#temperature', '0');
    await page.locator('#examples .example').first().click();
    await expect(page.locator('.msg.user').last()).toContainText(question);
    const reply = page.locator('.msg.assistant').last();
    await expect(reply).toHaveAttribute('data-finish', 'stop', { timeout: 120_000 });
    await expect(reply.locator('.text')).toHaveText(answer(EXAMPLE_SCENES[0], question));
    await page.screenshot({ path: 'e2e/screenshots/start-example-answer.png' });

    // Offline reload, at a phone's width and a desktop's.
    await context.setOffline(true);
    for (const width of [390, 1280]) {
      await page.setViewportSize({ width, height: 800 });
      await page.reload();
      await expect(page.locator('#status')).toHaveAttribute('data-state', 'ready', { timeout: 90_000 });
      expect(await styles(page)).toEqual(online);
      await page.screenshot({ path: `e2e/screenshots/start-offline-${width}.png` });
    }
    await page.fill('#max-tokens', '4');
    await page.fill('#prompt', 'Still there?');
    await page.click('#send');
    await expect(page.locator('.msg.assistant').last()).toHaveAttribute('data-finish', /stop|length/, {
      timeout: 90_000,
    });
    await context.setOffline(false);
    expect(errors).toEqual([]);
  } finally {
    if (child.pid) process.kill(-child.pid, 'SIGTERM');
  }
});
