// Every golden case through the whole model on the TypeScript reference backend (the oracle the GPU
// kernels are tested against must itself match the official model).
import { existsSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { createRefKernels } from '../kernels/ref_kernels.ts';
import { failures } from './compare.ts';
import { GOLDEN_ROOT } from './location.ts';
import { discoverCases, nodeGoldenIO } from './node_io.ts';
import { GoldenRunner } from './run_case.ts';

const ROOT = GOLDEN_ROOT;

describe.skipIf(!existsSync(ROOT))(`golden cases on the reference backend (${ROOT})`, () => {
  const runner = new GoldenRunner(createRefKernels(), nodeGoldenIO);
  const cases = discoverCases(ROOT);
  test('the suite has cases', () => expect(cases.length).toBeGreaterThan(0));
  for (const dir of cases) {
    test(dir.split('/').pop()!, async () => {
      const r = await runner.run(dir);
      expect(failures(r.checks)).toEqual([]);
    });
  }
});
