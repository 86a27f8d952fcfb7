// Emits the public API's declarations into dist/types/ (tsc, tsconfig.types.json), then makes them
// resolvable by any consumer: relative `./x.ts` specifiers become `./x.js` (which TypeScript maps to
// x.d.ts under every moduleResolution), and the entry references @webgpu/types (a dependency) so a
// consumer type-checking with skipLibCheck: false has the GPU* globals our signatures use.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const out = join(root, 'dist/types');
rmSync(out, { recursive: true, force: true });
let failure = null; // tsc still writes the files on a type error; the build fails after fixing them up
try {
  execFileSync(
    process.execPath,
    [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.types.json'],
    {
      cwd: root,
      stdio: 'inherit',
    },
  );
} catch (e) {
  failure = e;
}

const RELATIVE_TS = /((?:from|import)\s*\(?\s*)(['"])(\.{1,2}\/[^'"]+?)\.ts\2/g;
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (p.endsWith('.d.ts')) {
      const text = readFileSync(p, 'utf8');
      const fixed = text.replace(RELATIVE_TS, '$1$2$3.js$2');
      if (fixed !== text) writeFileSync(p, fixed);
    }
  }
}
walk(out);
for (const entry of ['index.d.ts', 'worker/worker.d.ts', 'script.d.ts']) {
  const p = join(out, entry);
  writeFileSync(p, `/// <reference types="@webgpu/types" />\n${readFileSync(p, 'utf8')}`);
}
if (failure) {
  console.error('types: tsc reported errors (above)');
  process.exit(1);
}
