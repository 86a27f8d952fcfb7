// The builds that make the npm package (vite.config.ts hands these modes here; `npm run build:package`):
//   lib     → dist/lib/     ES modules for bundlers: kimi-vl-web.js (`import { KimiVL } from 'kimi-vl-web'`) and
//                           worker.js (`kimi-vl-web/worker`), dependencies left as imports for the app's bundler
//   script  → dist/script/  single-file IIFE kimi-vl.js defining window.KimiVL, worker inlined (CDN-safe)
//   cli     → dist/cli/     the `kimi-vl` command compiled for Node (no tsx at runtime)
//   harness → dist/harness/ the page the CLI drives in headless Chromium, prebuilt (no vite at runtime)
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { resolve } from 'node:path';
import type { Plugin, UserConfig } from 'vite';

const root = resolve(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as {
  version: string;
  dependencies?: Record<string, string>;
};
const deps = Object.keys(pkg.dependencies ?? {});
/** A dependency or one of its subpaths: left for the app's bundler (or Node) to resolve. */
const isDependency = (id: string) => deps.some((d) => id === d || id.startsWith(`${d}/`));

const NOT_BUNDLED = ['@webgpu/types', 'playwright-core']; // types only; the CLI's Node side
const bundled = deps.filter((d) => !NOT_BUNDLED.includes(d));
const NOTICE =
  `/*! kimi-vl-web ${pkg.version} · MIT License · bundles ${bundled.join(', ')} (comlink: Copyright 2019 ` +
  'Google LLC, Apache-2.0): licenses in LICENSE and THIRD_PARTY_NOTICES of the kimi-vl-web package */';

/** Swaps src/api/worker_factory.ts for another factory (the lib and script builds start workers differently). */
function workerFactory(file: string) {
  return [{ find: /^\.\/worker_factory\.ts$/, replacement: resolve(root, 'src/api', file) }];
}

/**
 * Writes the worker URL of worker_factory_lib.ts after Vite's own worker handling, so the app's bundler
 * meets the literal `new Worker(new URL("./worker.js", import.meta.url), …)` it knows how to emit.
 */
function workerUrl(): Plugin {
  return {
    name: 'kimi-vl:worker-url',
    renderChunk(code) {
      if (!code.includes('KIMI_VL_WORKER_URL')) return null;
      return {
        code: code.replaceAll('KIMI_VL_WORKER_URL', 'new URL("./worker.js", import.meta.url)'),
        map: null,
      };
    },
  };
}

export function packageBuild(mode: string): UserConfig | null {
  if (mode === 'lib')
    return {
      publicDir: false,
      base: './',
      resolve: { alias: workerFactory('worker_factory_lib.ts') },
      plugins: [workerUrl()],
      build: {
        outDir: resolve(root, 'dist/lib'),
        emptyOutDir: true,
        sourcemap: false,
        minify: false, // the app's bundler minifies; readable code in node_modules helps users debug
        lib: {
          entry: {
            'kimi-vl-web': resolve(root, 'src/index.ts'),
            worker: resolve(root, 'src/worker/worker.ts'),
          },
          formats: ['es'],
          fileName: (_format, name) => `${name}.js`,
        },
        rolldownOptions: {
          external: isDependency,
          // Flat: the worker URL "./worker.js" is relative to whichever file holds the factory.
          output: { chunkFileNames: '[name]-[hash].js' },
        },
      },
      worker: { format: 'es' },
    };
  if (mode === 'script')
    return {
      publicDir: false,
      resolve: { alias: workerFactory('worker_factory_inline.ts') },
      build: {
        outDir: resolve(root, 'dist/script'),
        emptyOutDir: true,
        sourcemap: false,
        lib: {
          entry: resolve(root, 'src/script.ts'),
          formats: ['iife'],
          name: 'KimiVLBundle',
          fileName: () => 'kimi-vl.js',
        },
        rolldownOptions: { output: { postBanner: NOTICE } },
      },
      worker: { format: 'es', rolldownOptions: { output: { postBanner: NOTICE } } },
    };
  if (mode === 'cli')
    return {
      publicDir: false,
      build: {
        ssr: true,
        target: 'node20',
        outDir: resolve(root, 'dist/cli'),
        emptyOutDir: true,
        sourcemap: false,
        minify: false,
        rolldownOptions: {
          input: { main: resolve(root, 'src/cli/main.ts') },
          // Chunks sit beside main.js: modules that find files by `new URL('../../…', import.meta.url)`
          // reach the package root from dist/cli/ as they reach the repository root from src/cli/.
          external: (id) =>
            isDependency(id) || id === 'vite' || id.startsWith('node:') || builtinModules.includes(id),
          output: { format: 'es', entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js' },
        },
      },
    };
  if (mode === 'harness')
    return {
      root: resolve(root, 'src/cli/pages'),
      publicDir: false,
      base: './',
      appType: 'mpa',
      build: {
        outDir: resolve(root, 'dist/harness'),
        emptyOutDir: true,
        sourcemap: false,
        rolldownOptions: { input: resolve(root, 'src/cli/pages/harness.html') },
      },
      worker: { format: 'es' },
    };
  return null;
}
