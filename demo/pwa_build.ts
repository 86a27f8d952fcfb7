// The demo's PWA build step (a hand-written stand-in for vite-plugin-pwa's injectManifest): once the
// site is written, every file of it except model data gets a content revision, and the service worker
// (public/sw.js, copied to the site's root) is rewritten with that list and a version hash. Any changed
// byte of the shell changes sw.js, which is how the browser notices a new deploy and the page offers
// "Reload". Weights and tokenizers are left out: the engine keeps models in its OPFS cache.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { Plugin } from 'vite';

const SW_FILE = 'sw.js';
/** Folders of model data (cached by the engine, never precached). */
const MODEL_DIRS = ['models', 'tokenizers'];

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  );
}

/** [path relative to the site root as "./…", revision] for every shell file, sorted. */
export function precacheEntries(outDir: string): [string, string][] {
  return walk(outDir)
    .map((file) => relative(outDir, file).split(sep).join('/'))
    .filter((path) => path !== SW_FILE && !MODEL_DIRS.includes(path.split('/')[0]!))
    .filter((path) => !path.endsWith('.map') && !path.endsWith('.safetensors'))
    .sort()
    .map((path) => {
      const revision = createHash('sha256')
        .update(readFileSync(join(outDir, path)))
        .digest('hex')
        .slice(0, 16);
      return [`./${path}`, revision];
    });
}

/** Rewrites the worker's two build constants; refuses a worker that lost them (a silent no-op otherwise). */
export function injectPrecache(swSource: string, entries: [string, string][]): string {
  const version = createHash('sha256').update(JSON.stringify(entries)).digest('hex').slice(0, 12);
  const precacheLine = /^const PRECACHE = \[\];.*$/m;
  const versionLine = /^const VERSION = 'dev';.*$/m;
  if (!precacheLine.test(swSource) || !versionLine.test(swSource))
    throw new Error(`${SW_FILE}: the PRECACHE/VERSION lines the build rewrites are missing`);
  return swSource
    .replace(precacheLine, `const PRECACHE = ${JSON.stringify(entries)};`)
    .replace(versionLine, `const VERSION = '${version}';`);
}

export function demoPwa(): Plugin {
  let outDir = '';
  return {
    name: 'kimi-vl-demo-pwa',
    apply: 'build',
    configResolved(config) {
      outDir = config.build.outDir;
    },
    closeBundle() {
      const sw = join(outDir, SW_FILE);
      const entries = precacheEntries(outDir);
      writeFileSync(sw, injectPrecache(readFileSync(sw, 'utf8'), entries));
      this.info?.(`precached ${entries.length} shell files in ${SW_FILE}`);
    },
  };
}
