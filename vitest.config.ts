import { playwright } from '@vitest/browser-playwright';
import { defineConfig } from 'vitest/config';
import { CHROMIUM_PATH, chromiumArgs } from './scripts/chromium.ts';

// Two tiers of the three (the third, e2e/, is Playwright):
//   unit: plain Node — references, parsers, tokenizer, preprocessing, golden checks on the CPU reference.
//   gpu:  real headless Chromium with WebGPU — every kernel against its reference (*.gpu.test.ts), and the
//         browser-only checks that need Chromium but no GPU: tokenizer over HTTP, image decoders (*.browser.test.ts).
export default defineConfig({
  server: { fs: { allow: ['..'] } },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          environment: 'node',
          include: ['src/**/*.test.ts', 'scripts/**/*.test.ts', 'bench/**/*.test.ts'],
          exclude: ['src/**/*.gpu.test.ts', 'src/**/*.browser.test.ts'],
          testTimeout: 120_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'gpu',
          include: ['src/**/*.gpu.test.ts', 'src/**/*.browser.test.ts'],
          testTimeout: 600_000,
          hookTimeout: 120_000,
          fileParallelism: false,
          browser: {
            enabled: true,
            headless: true,
            screenshotFailures: false,
            provider: playwright({
              launchOptions: { executablePath: CHROMIUM_PATH, args: chromiumArgs() },
            }),
            instances: [{ browser: 'chromium' }],
          },
        },
      },
    ],
  },
});
