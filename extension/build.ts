// Builds the unpacked extension into extension/dist/: `npx tsx extension/build.ts`, then load
// extension/dist in chrome://extensions (Developer mode → Load unpacked).
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { build } from 'vite';

const here = import.meta.dirname;
const repo = resolve(here, '..');

export interface BuildOptions {
  /**
   * Host access granted at install, for tests only: it stands in for the one-origin grant a user gives
   * when asked (the shipped manifest has none; see background.ts).
   */
  hostPermissions?: string[];
}

export async function buildExtension(
  outDir = resolve(here, 'dist'),
  opts: BuildOptions = {},
): Promise<string> {
  await build({
    configFile: false,
    root: here,
    base: './',
    publicDir: false,
    logLevel: 'warn',
    build: {
      outDir,
      emptyOutDir: true,
      // The service worker must keep its name (the manifest points at it); pages are ordinary entries.
      rollupOptions: {
        input: {
          background: resolve(here, 'src/background.ts'),
          offscreen: resolve(here, 'offscreen.html'),
          sidepanel: resolve(here, 'sidepanel.html'),
        },
        output: {
          entryFileNames: (c) => (c.name === 'background' ? 'background.js' : 'assets/[name]-[hash].js'),
        },
      },
    },
    worker: { format: 'es' },
  });
  const manifest = JSON.parse(readFileSync(resolve(here, 'manifest.json'), 'utf8'));
  if (opts.hostPermissions?.length) manifest.host_permissions = opts.hostPermissions;
  writeFileSync(resolve(outDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  mkdirSync(resolve(outDir, 'models'), { recursive: true });
  cpSync(resolve(repo, 'public/models/kimi-vl-tiny'), resolve(outDir, 'models/kimi-vl-tiny'), {
    recursive: true,
  });
  return outDir;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(here, 'build.ts')) {
  const out = await buildExtension();
  console.log(`extension built in ${out}`);
}
