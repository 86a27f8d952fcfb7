// The demo site (default mode → dist/demo/, `npm start` serves it); the npm package's builds (--mode lib,
// script, cli, harness) are defined in scripts/build/package_builds.ts.
import { resolve } from 'node:path';
import { defineConfig } from 'vite';
import { demoPwa } from './demo/pwa_build.ts';
import { packageBuild } from './scripts/build/package_builds.ts';

const root = import.meta.dirname;

export default defineConfig(({ mode }) => {
  const packageConfig = packageBuild(mode);
  if (packageConfig) return packageConfig;
  return {
    root: resolve(root, 'demo'),
    appType: 'mpa', // no SPA fallback: a missing file is a 404, not index.html (the loader probes optional files)
    publicDir: resolve(root, 'public'),
    base: './',
    server: { fs: { allow: [root, resolve(root, '..')] } },
    build: { outDir: resolve(root, 'dist/demo'), emptyOutDir: true },
    worker: { format: 'es' },
    plugins: [demoPwa()], // PWA (helper H): precache list + version written into sw.js after the build
  };
});
