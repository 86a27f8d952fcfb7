// Issue 16: the bundled trained tiny models understand pictures. 50 new pictures (a seed the training
// never used; sizes 28–448 px and aspects 1:3–3:1 across the range, PNG and JPEG, with and without
// anti-aliasing) × the four question forms, through the public API, greedy. The issue asks ≥ 95 % exact
// for Instruct and ≥ 90 % (answer part) for Thinking in bf16; the floors and goals are in RUNS. q8 and q4
// are measured on request (README figures). Figures are written to the test's output folder.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { makeScenes } from '../scripts/train/pictures.ts';
import type { AccuracyRow } from './pages/accuracy-test.ts';
import { REPO_ROOT } from './support/env.ts';

/** Test pictures: not a training seed (train.py uses 1003/1007, evaluation 555/556, goldens 9001/9002). */
const SEED = 20261216;
/** 50 by default; KIMI_VL_ACCURACY_COUNT makes a quicker smoke run (the spanning test still wants 50). */
const COUNT = Number(process.env.KIMI_VL_ACCURACY_COUNT ?? 50);

/**
 * The bars are 95 % (Instruct) and 90 % (Thinking) in bf16. `min` is what this test asserts: the bar
 * itself where the measured figure clears it by a few answers, else a regression floor a little under the
 * measured figure, with `goal` (the bar) reported beside it.
 */
const RUNS = [
  { model: 'kimi-vl-tiny-instruct', quant: 'none', min: 0.95, goal: 0.95 },
  { model: 'kimi-vl-tiny-thinking', quant: 'none', min: 0.9, goal: 0.9 },
  { model: 'kimi-vl-tiny-instruct', quant: 'q8', min: 0.9, goal: 0.9 },
  { model: 'kimi-vl-tiny-thinking', quant: 'q8', min: 0.88, goal: 0.85 },
  { model: 'kimi-vl-tiny-instruct', quant: 'q4', min: 0.88, goal: 0.5 },
  { model: 'kimi-vl-tiny-thinking', quant: 'q4', min: 0.88, goal: 0.5 },
] as const;

type Win = {
  runAccuracy: (url: string, quant: string, seed: number, count: number) => Promise<AccuracyRow[]>;
};

test('the test pictures span the task: sizes 28–448, aspects 1:3–3:1, PNG and JPEG, aa on and off', () => {
  const scenes = makeScenes(SEED, 50);
  const sides = scenes.flatMap((s) => [s.width, s.height]);
  const aspects = scenes.map((s) => s.width / s.height);
  expect(Math.min(...sides)).toBeLessThan(60);
  expect(Math.max(...sides)).toBeGreaterThan(400);
  expect(Math.min(...aspects)).toBeLessThan(0.5);
  expect(Math.max(...aspects)).toBeGreaterThan(2);
  for (const s of scenes) {
    expect(Math.min(s.width, s.height)).toBeGreaterThanOrEqual(28);
    expect(Math.max(s.width, s.height)).toBeLessThanOrEqual(448);
    expect(Math.max(s.width / s.height, s.height / s.width)).toBeLessThanOrEqual(3);
  }
  expect(new Set(scenes.map((s) => s.format)).size).toBe(2);
  expect(new Set(scenes.map((s) => s.antialias)).size).toBe(2);
  expect(new Set(scenes.map((s) => s.shapes.length)).size).toBe(3);
});

/** The quantised runs take as long again each: measured for the README on request, not in every npm test. */
const WITH_QUANT = process.env.KIMI_VL_ACCURACY_QUANT === '1';

for (const run of RUNS) {
  test(`${run.model} ${run.quant === 'none' ? 'bf16' : run.quant}: ≥ ${run.min * 100} % exact (floor; goal ${run.goal * 100} %) on ${COUNT} unseen pictures × 4 questions`, async ({
    page,
  }, info) => {
    test.skip(run.quant !== 'none' && !WITH_QUANT, 'q8/q4 accuracy: set KIMI_VL_ACCURACY_QUANT=1');
    // Until scripts/train/train.sh has produced (and someone committed) the checkpoint there is nothing to measure.
    test.skip(
      !existsSync(join(REPO_ROOT, 'public/models', run.model, 'model.safetensors')),
      `${run.model} not trained yet`,
    );
    test.setTimeout(2_400_000);
    await page.goto('/e2e/pages/accuracy-test.html');
    await page.waitForFunction(() => 'runAccuracy' in globalThis);
    const rows = await page.evaluate(
      ({ url, quant, seed, count }) => (globalThis as unknown as Win).runAccuracy(url, quant, seed, count),
      { url: `/models/${run.model}/`, quant: run.quant, seed: SEED, count: COUNT },
    );
    expect(rows).toHaveLength(COUNT * 4);
    const right = rows.filter((r) => r.answer === r.want);
    const accuracy = right.length / rows.length;
    const wrong = rows.filter((r) => r.answer !== r.want).slice(0, 20);
    const report = {
      model: run.model,
      quant: run.quant,
      seed: SEED,
      accuracy,
      right: right.length,
      of: rows.length,
      floor: run.min,
      goal: run.goal,
      wrong,
    };
    writeFileSync(info.outputPath('accuracy.json'), JSON.stringify(report, null, 1));
    console.log(
      `accuracy ${run.model} ${run.quant}: ${(accuracy * 100).toFixed(1)} % (${right.length}/${rows.length}; ` +
        `issue goal ${run.goal * 100} %: ${accuracy >= run.goal ? 'met' : 'not met'})`,
    );
    if (run.model.includes('thinking')) {
      // The Thinking model reasons first: most answers come with a non-empty reasoning span.
      expect(rows.filter((r) => r.reasoning.trim().length > 0).length).toBeGreaterThan(rows.length * 0.9);
    }
    expect(accuracy, JSON.stringify(wrong.slice(0, 5))).toBeGreaterThanOrEqual(run.min);
  });
}
