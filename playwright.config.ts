// Playwright end-to-end tier: real Chromium (same binary and flags as vitest's browser tier and the
// CLI, scripts/chromium.ts), specs in e2e/**/*.spec.ts, pages served by one server
// (e2e/support/server.ts: Vite dev middleware over the repo root + test data with Range and fault
// injection at /__data/<session>/{shared,tmp}/). Run: `npx playwright test` (or `e2e/weights`).
import { defineConfig } from '@playwright/test';
import { E2E_PORT, E2E_TMP, SHARED_DIR } from './e2e/support/env.ts';
import { CHROMIUM_PATH, chromiumArgs } from './scripts/chromium.ts';

// Specs and the server must agree on the scratch folder; pin it for both.
process.env.KIMI_VL_E2E_TMP = E2E_TMP;

export default defineConfig({
  testDir: 'e2e',
  testMatch: '**/*.spec.ts',
  timeout: 120_000,
  expect: { timeout: 10_000 },
  forbidOnly: !!process.env.CI,
  reporter: process.env.CI ? [['list'], ['html', { open: 'never' }]] : 'list',
  use: {
    baseURL: `http://localhost:${E2E_PORT}`,
    browserName: 'chromium',
    launchOptions: { executablePath: CHROMIUM_PATH, args: chromiumArgs() },
    trace: 'retain-on-failure',
  },
  webServer: {
    command: `npx tsx e2e/support/server.ts --port ${E2E_PORT}`,
    url: `http://localhost:${E2E_PORT}/__ctl/health`,
    reuseExistingServer: !process.env.CI,
    timeout: 120_000,
    env: { KIMI_VL_E2E_TMP: E2E_TMP, KIMI_VL_SHARED: SHARED_DIR },
    stdout: 'pipe',
  },
});
