// Static-tier check of the house's shape (run by `npm test`, exit 1 on any finding):
//   - no import circle among the modules of src/ and bench/ (type-only imports count: they are
//     still arrows between rooms);
//   - the layering rules: every arrow points down (see LAYER_RULES). They bind the engine's modules; a test
//     may also reach test support and data sources beside its subject (a kernel test builds weights, a
//     loader test reads a golden checkpoint), except under src/model/, whose tests stay as pure as its math;
//   - engine modules never import test code (*.test.ts, src/testing/, fixtures);
//   - no source file over MAX_LINES lines.
// The graph is read from the import/export specifiers of each .ts file, resolved relative to it.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/** The tree to check: this repository, or the folder given as the first argument (the script's tests). */
const ROOT = resolve(process.argv[2] ?? resolve(import.meta.dirname, '..'));
const GRAPH_ROOTS = ['src', 'bench'];
const LENGTH_ROOTS = ['src', 'bench', 'scripts', 'demo', 'e2e', 'extension', 'bin'];
const MAX_LINES = 400;
/** Data, not code: generated fixtures are exempt from the length rule. */
const LENGTH_EXEMPT = [/\/fixtures\//, /\.json$/, /\.model$/];

/** [from-prefix, forbidden-prefix, why]. A module under `from` may not import one under `forbidden`. */
const LAYER_RULES: Array<[string, string, string]> = [
  ['src/tensor/', 'src/', 'the ground floor imports nothing of ours but errors.ts'],
  ['src/config/', 'src/', 'the ground floor imports nothing of ours but errors.ts'],
  ['src/gpu/', 'src/kernels/', 'the GPU runtime sits below the kernels'],
  ['src/kernels/', 'src/weights/', 'kernels never know where weights come from'],
  ['src/kernels/', 'src/model/', 'kernels never know which model calls them'],
  ['src/model/', 'src/weights/', 'model math takes named weights, not checkpoints'],
  ['src/model/', 'src/golden/', 'model code holds no golden or test code'],
  ['src/', 'bench/', 'the engine never depends on its benchmark'],
  ['src/', 'e2e/', 'the engine never depends on its end-to-end tests'],
];
/** Test-only code: what the engine's modules may never import. */
const TEST_CODE = [/\.test\.ts$/, /\.test_util\.ts$/, /^src\/testing\//, /\/testing\.ts$/, /\/fixtures\//];
const isTest = (f: string) => TEST_CODE.some((x) => x.test(f));
/** Floors whose tests obey the layer rules too. */
const STRICT_TEST_FLOORS = ['src/model/'];
/** Imports the layer rules allow even though a prefix matches. */
const ALLOWED = ['src/errors.ts'];

function walk(dir: string, out: string[] = []): string[] {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name === 'results' || name === 'screenshots') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

const SPECIFIER =
  /(?:^|\n)\s*(?:import|export)\b[^'"`;]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(SPECIFIER)) {
    const spec = m[1] ?? m[2];
    if (!spec?.startsWith('.')) continue;
    const target = resolve(dirname(file), spec.replace(/\?.*$/, ''));
    if (target.endsWith('.ts') && existsSync(target)) out.push(relative(ROOT, target));
  }
  return out;
}

function findCycles(graph: Map<string, string[]>): string[][] {
  // Tarjan's strongly connected components; any component of size > 1 (or a self-loop) is a circle.
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const strong = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        strong(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(comp.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) strong(v);
  return cycles;
}

const problems: string[] = [];
const graph = new Map<string, string[]>();
for (const r of GRAPH_ROOTS)
  for (const f of walk(join(ROOT, r)).filter((f) => f.endsWith('.ts')))
    graph.set(relative(ROOT, f), importsOf(f));

for (const cycle of findCycles(graph)) problems.push(`import circle: ${cycle.join(' ↔ ')}`);

for (const [from, targets] of graph)
  for (const to of targets) {
    if (ALLOWED.includes(to)) continue;
    if (from.startsWith('src/') && !isTest(from) && isTest(to))
      problems.push(`${from} imports ${to}: engine modules never import test code`);
    if (isTest(from) && !STRICT_TEST_FLOORS.some((f) => from.startsWith(f))) continue;
    for (const [fromPrefix, forbidden, why] of LAYER_RULES) {
      if (!from.startsWith(fromPrefix) || !to.startsWith(forbidden)) continue;
      if (to.startsWith(fromPrefix)) continue; // within its own floor
      problems.push(`${from} imports ${to}: ${why}`);
    }
  }

for (const r of LENGTH_ROOTS)
  for (const f of walk(join(ROOT, r))) {
    const rel = relative(ROOT, f);
    if (!/\.(ts|mjs|js|wgsl|css|html|sh)$/.test(rel) || LENGTH_EXEMPT.some((x) => x.test(rel))) continue;
    const lines = readFileSync(f, 'utf8').split('\n').length - 1;
    if (lines > MAX_LINES) problems.push(`${rel} has ${lines} lines (at most ${MAX_LINES})`);
  }

for (const p of problems) console.log(`architecture: ${p}`);
console.log(
  problems.length
    ? `architecture: ${problems.length} problem(s)`
    : `architecture: ${graph.size} modules, no import circle, layers respected, no file over ${MAX_LINES} lines`,
);
process.exitCode = problems.length ? 1 : 0;
