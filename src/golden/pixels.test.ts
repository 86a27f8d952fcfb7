// Every golden case with images: our PNG decode + preprocessing must reproduce pixel_values
// (max |Δ| ≤ the case's pixel tolerance, 1e-5), image_grid_hws, images_info sizes and the placeholder
// counts exactly. Text-only cases have nothing to preprocess and are not listed.
// The golden root is $KIMI_VL_GOLDEN, else ../shared/golden next to the repo (location.ts).
import { describe, expect, it } from 'vitest';
import { failures } from './compare.ts';
import { GOLDEN_ROOT } from './location.ts';
import { discoverCases, nodeGoldenIO } from './node_io.ts';
import { checkGoldenPixels } from './pixels.ts';
import { readCases } from './reader.ts';

const all = await readCases(nodeGoldenIO, discoverCases(GOLDEN_ROOT));
const withImages = all.filter((c) => c.images.length > 0);

describe('golden pixel_values', () => {
  it('finds the golden cases with images', () => {
    expect(all.length, `no cases under ${GOLDEN_ROOT}; set KIMI_VL_GOLDEN`).toBeGreaterThan(0);
    expect(withImages.length).toBeGreaterThan(0);
  });

  it.each(withImages.map((c) => [c.name, c.dir]))('%s', async (name, dir) => {
    const r = await checkGoldenPixels(nodeGoldenIO, dir);
    console.log(`${name}: ${r.case.images.length} image(s), max |Δ| = ${r.pixelError.toExponential(2)}`);
    expect(failures(r.checks)).toEqual([]);
    expect(r.pixelError).toBeLessThanOrEqual(r.case.tolerance.pixelValuesMaxAbs);
  });
});
