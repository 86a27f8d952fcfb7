// The static tier's own scripts must be able to fail: the architecture check on trees with a circle, a
// downward-rule break, test code in an engine module and an over-long file; the summary on a test file
// that failed to load.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const TSX = join(import.meta.dirname, '../node_modules/.bin/tsx');
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'kimi-static-'));
  dirs.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

function run(script: string, arg: string) {
  const r = spawnSync(TSX, [join(import.meta.dirname, script), arg], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout + r.stderr };
}

describe('check_architecture', () => {
  it('passes a tree whose arrows point down', () => {
    const root = tree({
      'src/errors.ts': 'export const E = 1;\n',
      'src/tensor/types.ts': "import { E } from '../errors.ts';\nexport const T = E;\n",
      'src/gpu/runtime.ts': "import { T } from '../tensor/types.ts';\nexport const R = T;\n",
    });
    const r = run('check_architecture.ts', root);
    expect(r.out).toContain('no import circle');
    expect(r.code).toBe(0);
  });

  it('finds a type-only circle, an upward arrow, test code in the engine and a long file', () => {
    const root = tree({
      'src/worker/a.ts': "import type { B } from './b.ts';\nexport type A = B;\n",
      'src/worker/b.ts': "import type { A } from './a.ts';\nexport type B = A | 1;\n",
      'src/gpu/runtime.ts': "import { K } from '../kernels/k.ts';\nexport const R = K;\n",
      'src/kernels/k.ts':
        "import { mulberry32 } from '../testing/random.ts';\nexport const K = mulberry32;\n",
      'src/testing/random.ts': 'export const mulberry32 = 1;\n',
      'bench/long.ts': '// x\n'.repeat(401),
    });
    const r = run('check_architecture.ts', root);
    expect(r.code).toBe(1);
    expect(r.out).toContain('import circle: src/worker/a.ts ↔ src/worker/b.ts');
    expect(r.out).toContain('src/gpu/runtime.ts imports src/kernels/k.ts');
    expect(r.out).toContain(
      'src/kernels/k.ts imports src/testing/random.ts: engine modules never import test code',
    );
    expect(r.out).toContain('bench/long.ts has 401 lines');
  });
});

describe('test_summary', () => {
  it('counts a test file that failed to load as a failure', () => {
    const failedLoad = {
      numPassedTests: 3,
      numFailedTests: 0,
      numPendingTests: 1,
      numTodoTests: 0,
      testResults: [
        { status: 'passed', assertionResults: [{ status: 'passed' }] },
        { status: 'failed', assertionResults: [] },
      ],
    };
    const root = tree({
      'static.json': '{"passed": 3, "failed": 0}',
      'unit.json': JSON.stringify(failedLoad),
      'gpu.json': JSON.stringify({ ...failedLoad, testResults: [] }),
      'e2e.json': JSON.stringify({ stats: { expected: 2, unexpected: 0, flaky: 0, skipped: 1 }, errors: [] }),
      'consumer.json': '{"passed": 15, "failed": 0}',
      'golden.json': '{"passed": 8, "failed": 0}',
      'golden-16k.json': '{"passed": 8, "failed": 0}',
      'golden-32k.json': '{"passed": 8, "failed": 0}',
      'golden-q8.json': '{"passed": 8, "failed": 0}',
      'golden-q4.json': '{"passed": 8, "failed": 0}',
      'golden-trained.json': '{"passed": 6, "failed": 0}',
    });
    const r = run('test_summary.ts', root);
    expect(r.out).toMatch(/^unit +3 passed, 1 failed, 1 skipped$/m);
    expect(r.out).toMatch(/^trained +6 passed, 0 failed$/m);
    expect(r.out).toMatch(/^gpu +3 passed, 0 failed, 1 skipped$/m);
    expect(r.out).toMatch(/^72 passed, 1 failed, 3 skipped$/m);
    expect(r.code).toBe(1);
  });

  it('a tier without a report counts as a failure', () => {
    const root = tree({
      'static.json': '{"passed": 3, "failed": 0}',
      'golden.json': '{"passed": 8, "failed": 0}',
    });
    const r = run('test_summary.ts', root);
    expect(r.out).toMatch(/^consumer +no report/m);
    expect(r.code).toBe(1);
  });
});
