// `npx tsx bench/count_run.ts [--out FILE]`: the per-token section alone, in Node (no browser, no GPU):
// the real 27-layer config decoded on the counting backend at 4K and 32K (bench/per_token.ts), printed
// and optionally written as JSON rows. Loaded through Vite's SSR module loader so the kernels' WGSL
// `?raw` imports resolve as in the browser.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'vite';
import { flag, parseArgs } from '../src/cli/args.ts';
import { REPO_ROOT } from './output.ts';

async function main(): Promise<number> {
  const p = parseArgs(process.argv.slice(2), { out: 'string' });
  const server = await createServer({
    root: REPO_ROOT,
    configFile: false,
    logLevel: 'error',
    appType: 'custom',
    optimizeDeps: { noDiscovery: true, entries: [] },
    server: { middlewareMode: true, hmr: false, watch: null },
  });
  try {
    const sections = (await server.ssrLoadModule('/bench/sections.ts')) as typeof import('./sections.ts');
    const raw = JSON.parse(readFileSync(join(REPO_ROOT, 'configs/Kimi-VL-A3B-Instruct.config.json'), 'utf8'));
    const rows = await sections.perTokenSection(raw, false);
    const out = flag(p, 'out');
    if (out) writeFileSync(out, `${JSON.stringify(rows, null, 2)}\n`);
    return 0;
  } finally {
    await server.close();
  }
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
