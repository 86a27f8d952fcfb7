// Derived golden cases (derive.ts): the expectations of a quantised model, made by the reference backend on
// the quantised weights. A run on those weights passes them; the float model fails them (they are not the
// float goldens copied), and the float goldens still fail the quantised model (what the derivation is for).
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { createRefKernels } from '../kernels/ref_kernels.ts';
import { failures } from './compare.ts';
import { deriveCases } from './derive.ts';
import { GOLDEN_ROOT } from './location.ts';
import { nodeGoldenIO } from './node_io.ts';
import { GoldenRunner } from './run_case.ts';

const CASES = ['a-text-only', 'a-one-image'].map((n) => join(GOLDEN_ROOT, 'cases', n));
const out = mkdtempSync(join(tmpdir(), 'kimi-derived-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe.skipIf(!existsSync(CASES[0]!))('deriveCases (q8 quantised on load)', () => {
  const derivedP = deriveCases(CASES, new Map(), 'q8', out);
  const names = (r: { checks: { name: string; pass: boolean }[] }) =>
    r.checks.filter((c) => !c.pass).map((c) => c.name);

  test('the quantised model passes its derived cases; the drift from the float goldens is reported', async () => {
    const derived = await derivedP;
    const q8 = new GoldenRunner(createRefKernels(), nodeGoldenIO, 'q8');
    for (const dir of CASES) {
      const d = derived.get(dir)!;
      expect(d.drift).toMatch(/logits=\d\.\de[-+]\d+ .*new_tokens \d\/8 as float/);
      expect(failures((await q8.run(d.dir)).checks)).toEqual([]);
    }
  });

  test('the float model fails the derived cases, and the quantised one the float goldens', async () => {
    const derived = await derivedP;
    const float = new GoldenRunner(createRefKernels(), nodeGoldenIO, 'none');
    const q8 = new GoldenRunner(createRefKernels(), nodeGoldenIO, 'q8');
    for (const dir of CASES) {
      expect(names(await float.run(derived.get(dir)!.dir))).toContain('logits');
      expect(names(await q8.run(dir))).toContain('logits');
    }
  });
});
