// `npx tsx bench/count_run.ts [--out FILE]`: the per-token section alone, in Node (no browser, no GPU):
// the real 27-layer config decoded on the counting backend at 4K and 32K (bench/per_token.ts), printed
// and optionally written as JSON rows (engine code loaded through bench/ssr_loader.ts).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { flag, parseArgs } from '../src/cli/args.ts';
import { REPO_ROOT } from './output.ts';
import { withSsrLoader } from './ssr_loader.ts';

async function main(): Promise<number> {
  const p = parseArgs(process.argv.slice(2), { out: 'string' });
  return withSsrLoader(REPO_ROOT, async (load) => {
    const sections = await load<typeof import('./sections.ts')>('/bench/sections.ts');
    const raw = JSON.parse(readFileSync(join(REPO_ROOT, 'configs/Kimi-VL-A3B-Instruct.config.json'), 'utf8'));
    const rows = await sections.perTokenSection(raw, false);
    const out = flag(p, 'out');
    if (out) writeFileSync(out, `${JSON.stringify(rows, null, 2)}\n`);
    return 0;
  });
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
