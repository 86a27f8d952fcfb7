// Sums the tiers' JSON reports into one table and the closing line "N passed, M failed".
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
  /** "file › test: first line of the error", for the failures (CI shows only the log's tail). */
  failures?: string[];
}

/** The first line of an error message, without ANSI colours, cut to one readable line. */
function firstLine(message: unknown): string {
  const text = String(message ?? '').replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '');
  const line = text.split('\n').find((l) => l.trim()) ?? '';
  return line.trim().slice(0, 200);
}

function vitest(file: string): Counts | null {
  if (!existsSync(file)) return null;
  const j = JSON.parse(readFileSync(file, 'utf8'));
  // A test file that fails to load (syntax error, failed import, a throw at top level) has no failed
  // test of its own, only a failed suite: count each such file as one failure so it cannot vanish.
  const files: Array<{
    name?: string;
    status?: string;
    message?: string;
    assertionResults?: Array<{ status?: string; fullName?: string; failureMessages?: string[] }>;
  }> = j.testResults ?? [];
  const unloaded = files.filter(
    (f) => f.status === 'failed' && !(f.assertionResults ?? []).some((a) => a.status === 'failed'),
  );
  const failures: string[] = [];
  for (const f of files) {
    const file = (f.name ?? '').replace(`${process.cwd()}/`, '');
    for (const a of f.assertionResults ?? []) {
      if (a.status === 'failed')
        failures.push(`${file} › ${a.fullName}: ${firstLine(a.failureMessages?.[0])}`);
    }
    if (unloaded.includes(f)) failures.push(`${file} (did not load): ${firstLine(f.message)}`);
  }
  return {
    passed: j.numPassedTests ?? 0,
    failed: (j.numFailedTests ?? 0) + unloaded.length,
    skipped: (j.numPendingTests ?? 0) + (j.numTodoTests ?? 0),
    failures,
  };
}

interface PlaywrightSuite {
  file?: string;
  specs?: Array<{
    title?: string;
    file?: string;
    tests?: Array<{ status?: string; results?: Array<{ error?: { message?: string } }> }>;
  }>;
  suites?: PlaywrightSuite[];
}

function playwright(file: string): Counts | null {
  if (!existsSync(file)) return null;
  const j = JSON.parse(readFileSync(file, 'utf8'));
  const s = j.stats ?? {};
  // Errors outside any test (a spec that fails to load, a global setup that throws) count as failures.
  const loadErrors: Array<{ message?: string }> = j.errors ?? [];
  const failures = loadErrors.map((e) => `(outside a test): ${firstLine(e.message)}`);
  const walk = (suite: PlaywrightSuite): void => {
    for (const spec of suite.specs ?? []) {
      for (const t of spec.tests ?? []) {
        if (t.status !== 'unexpected' && t.status !== 'flaky') continue;
        const error = (t.results ?? []).find((r) => r.error)?.error?.message;
        failures.push(`${spec.file ?? suite.file} › ${spec.title} (${t.status}): ${firstLine(error)}`);
      }
    }
    for (const child of suite.suites ?? []) walk(child);
  };
  for (const suite of j.suites ?? []) walk(suite);
  return {
    passed: s.expected ?? 0,
    failed: (s.unexpected ?? 0) + (s.flaky ?? 0) + loadErrors.length,
    skipped: s.skipped ?? 0,
    failures,
  };
}

function plain(file: string): Counts | null {
  if (!existsSync(file)) return null;
  const j = JSON.parse(readFileSync(file, 'utf8'));
  // Golden reports carry {name, pass, checks}, the consumer's {name, ok, detail}, static's its names.
  const failures: string[] = [
    ...(j.reports ?? [])
      .filter((r: { pass?: boolean }) => !r.pass)
      .map((r: { name: string; checks?: Array<{ name: string; pass: boolean }> }) => {
        const bad = (r.checks ?? []).filter((c) => !c.pass).map((c) => c.name);
        return `${r.name}: ${bad.join(', ') || 'failed'}`;
      }),
    ...(j.checks ?? [])
      .filter((c: { ok?: boolean }) => !c.ok)
      .map((c: { name: string; detail?: string }) => `${c.name}: ${firstLine(c.detail)}`),
    ...(j.failures ?? []),
  ];
  return { passed: j.passed ?? 0, failed: j.failed ?? 0, skipped: j.skipped ?? 0, failures };
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
// The failures' names last, beside the totals: CI reports only the tail of the log.
for (const [name, c] of tiers) for (const f of c?.failures ?? []) console.log(`FAILED ${name}: ${f}`);
console.log(
  `${total.passed} passed, ${total.failed} failed${total.skipped ? `, ${total.skipped} skipped` : ''}`,
);
process.exitCode = total.failed ? 1 : 0;
