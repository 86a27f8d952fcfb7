// Writes THIRD_PARTY_NOTICES: the license of every dependency whose code the package's bundles carry
// (the drop-in script and the CLI's harness page bundle them; dist/lib/ imports them instead). Run by
// `npm run build:package`, so a new dependency's notice cannot be forgotten.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
/** Dependencies that never enter a bundle: type declarations, and the CLI's Node-side browser driver. */
const NOT_BUNDLED = new Set(['@webgpu/types', 'playwright-core']);

const sections = Object.keys(pkg.dependencies ?? {})
  .filter((name) => !NOT_BUNDLED.has(name))
  .sort()
  .map((name) => {
    const dir = join(root, 'node_modules', name);
    const meta = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const file = ['LICENSE', 'LICENSE.md', 'LICENSE.txt', 'license']
      .map((f) => join(dir, f))
      .find(existsSync);
    if (!file) throw new Error(`notices: ${name} ships no LICENSE file; add its notice by hand`);
    const url =
      typeof meta.repository === 'string' ? meta.repository : (meta.repository?.url ?? meta.homepage ?? '');
    return [
      '-'.repeat(79),
      `${name} ${meta.version} (${meta.license}) ${url}`.trim(),
      '-'.repeat(79),
      '',
      readFileSync(file, 'utf8').trim(),
      '',
    ].join('\n');
  });

writeFileSync(
  join(root, 'THIRD_PARTY_NOTICES'),
  [
    'Third-party software in kimi-vl-web',
    '===================================',
    '',
    'The drop-in script (dist/script/kimi-vl.js) and the CLI harness page (dist/harness/) bundle the',
    'packages below; the library build (dist/lib/) imports them as dependencies instead.',
    '',
    ...sections,
  ].join('\n'),
);
