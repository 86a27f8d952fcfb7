// Three builds from one config, chosen with --mode:
//   lib    → dist/lib/    ES module library (`import { KimiVL } from 'kimi-vl-web'`), worker as a sibling chunk
//   script → dist/script/ single-file IIFE `kimi-vl.js` defining window.KimiVL, worker inlined (CDN-safe)
//   (default) demo → dist/demo/ the offline demo site
import { resolve } from 'node:path';
import { defineConfig } from 'vite';

const root = import.meta.dirname;

export default defineConfig(({ mode }) => {
  if (mode === 'lib') {
    return {
      publicDir: false,
      build: {
        outDir: 'dist/lib',
        emptyOutDir: true,
        sourcemap: true,
        lib: { entry: resolve(root, 'src/index.ts'), formats: ['es'], fileName: () => 'kimi-vl-web.js' },
      },
      worker: { format: 'es' },
    };
  }
  if (mode === 'script') {
    return {
      resolve: {
        alias: [
          {
            find: /^\.\/worker_factory\.ts$/,
            replacement: resolve(root, 'src/api/worker_factory_inline.ts'),
          },
        ],
      },
      build: {
        outDir: 'dist/script',
        emptyOutDir: true,
        lib: {
          entry: resolve(root, 'src/script.ts'),
          formats: ['iife'],
          name: 'KimiVLBundle',
          fileName: () => 'kimi-vl.js',
        },
      },
      worker: { format: 'es' },
    };
  }
  return {
    root: resolve(root, 'demo'),
    appType: 'mpa', // no SPA fallback: a missing file is a 404, not index.html (the loader probes optional files)
    publicDir: resolve(root, 'public'),
    base: './',
    server: { fs: { allow: [root, resolve(root, '..')] } },
    build: { outDir: resolve(root, 'dist/demo'), emptyOutDir: true },
    worker: { format: 'es' },
  };
});
