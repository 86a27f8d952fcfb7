// Sums the tiers' JSON reports into one table and the closing line "N passed, M failed".
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

function vitest(file: string): Counts | null {
  if (!existsSync(file)) return null;
  const j = JSON.parse(readFileSync(file, 'utf8'));
  // A test file that fails to load (syntax error, failed import, a throw at top level) has no failed
  // test of its own, only a failed suite: count each such file as one failure so it cannot vanish.
  const files: Array<{ status?: string; assertionResults?: Array<{ status?: string }> }> =
    j.testResults ?? [];
  const unloaded = files.filter(
    (f) => f.status === 'failed' && !(f.assertionResults ?? []).some((a) => a.status === 'failed'),
  ).length;
  return {
    passed: j.numPassedTests ?? 0,
    failed: (j.numFailedTests ?? 0) + unloaded,
    skipped: (j.numPendingTests ?? 0) + (j.numTodoTests ?? 0),
  };
}

function playwright(file: string): Counts | null {
  if (!existsSync(file)) return null;
  const j = JSON.parse(readFileSync(file, 'utf8'));
  const s = j.stats ?? {};
  // Errors outside any test (a spec that fails to load, a global setup that throws) count as failures.
  const loadErrors = (j.errors ?? []).length;
  return {
    passed: s.expected ?? 0,
    failed: (s.unexpected ?? 0) + (s.flaky ?? 0) + loadErrors,
    skipped: s.skipped ?? 0,
  };
}

function plain(file: string): Counts | null {
  if (!existsSync(file)) return null;
  const j = JSON.parse(readFileSync(file, 'utf8'));
  return { passed: j.passed ?? 0, failed: j.failed ?? 0, skipped: j.skipped ?? 0 };
}

const dir = process.argv[2] ?? '.cache/test-results';
const tiers: Array<[string, Counts | null]> = [
  ['static', plain(join(dir, 'static.json'))],
  ['unit', vitest(join(dir, 'unit.json'))],
  ['gpu', vitest(join(dir, 'gpu.json'))],
  ['e2e', playwright(join(dir, 'e2e.json'))],
  ['consumer', plain(join(dir, 'consumer.json'))],
  ['golden', plain(join(dir, 'golden.json'))],
  ['golden16k', plain(join(dir, 'golden-16k.json'))],
  ['golden32k', plain(join(dir, 'golden-32k.json'))],
  ['goldenq8', plain(join(dir, 'golden-q8.json'))],
  ['goldenq4', plain(join(dir, 'golden-q4.json'))],
  ['trained', plain(join(dir, 'golden-trained.json'))],
];
const total: Counts = { passed: 0, failed: 0, skipped: 0 };
let missing = 0;
for (const [name, c] of tiers) {
  if (!c) {
    console.log(`${name.padEnd(9)} no report (the tier did not run to completion)`);
    missing++;
    continue;
  }
  console.log(
    `${name.padEnd(9)} ${c.passed} passed, ${c.failed} failed${c.skipped ? `, ${c.skipped} skipped` : ''}`,
  );
  total.passed += c.passed;
  total.failed += c.failed;
  total.skipped += c.skipped;
}
total.failed += missing;
console.log(
  `${total.passed} passed, ${total.failed} failed${total.skipped ? `, ${total.skipped} skipped` : ''}`,
);
process.exitCode = total.failed ? 1 : 0;
