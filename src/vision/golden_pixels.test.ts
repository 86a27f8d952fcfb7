// Every golden case with images: our PNG decode + preprocessing must reproduce pixel_values
// (max |Δ| ≤ 1e-5), image_grid_hws, images_info sizes and the placeholder count exactly.
// The golden root is $KIMI_VL_GOLDEN, else ../shared/golden next to the repo (src/golden/location.ts).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { GOLDEN_ROOT } from '../golden/location.ts';
import { checkGoldenPixels, PIXEL_VALUES_TOLERANCE } from './golden_pixels.ts';

const _repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const goldenRoot = GOLDEN_ROOT;
const casesDir = join(goldenRoot, 'cases');
const caseNames = existsSync(casesDir)
  ? readdirSync(casesDir).filter((n) => existsSync(join(casesDir, n, 'case.json')))
  : [];
const read = async (path: string) => new Uint8Array(readFileSync(path));

describe('golden pixel_values', () => {
  it('finds the golden cases', () => {
    expect(caseNames.length, `no cases under ${casesDir}; set KIMI_VL_GOLDEN_DIR`).toBeGreaterThan(0);
  });

  it.each(caseNames)('%s', async (name) => {
    const report = await checkGoldenPixels(join(casesDir, name), read);
    if (report === null) return; // text-only case: nothing to preprocess
    console.log(`${name}: ${report.images.length} image(s), max |Δ| = ${report.maxAbsDiff.toExponential(2)}`);
    expect(report.problems).toEqual([]);
    expect(report.mismatches).toBe(0);
    expect(report.maxAbsDiff).toBeLessThanOrEqual(PIXEL_VALUES_TOLERANCE);
  });
});
