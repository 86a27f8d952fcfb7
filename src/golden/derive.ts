// Golden cases for a quantised model (`kimi-vl golden --converted q8|q4`, `--quant q8|q4`). The goldens
// hold the float32 checkpoint's outputs, which a q8/q4 model cannot match to 1e-4: on the random tiny
// models, quantisation flips expert routing and moves logits by 2e-2 (q8) to 0.9 (q4). What a quantised
// run must match is the quantised model itself, so each case is *derived*: the same inputs and images,
// its expected tensors and greedy tokens computed by the reference backend (src/kernels/*.ref.ts, in Node)
// on the very weights the engine runs. The GPU run is judged against those with the goldens' tolerances;
// the quantisation error (reference on the quantised weights vs the float goldens) is reported beside it.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createRefKernels } from '../kernels/ref_kernels.ts';
import { joinPath } from './case.ts';
import { maxRelError } from './compare.ts';
import { nodeGoldenIO } from './node_io.ts';
import { readCase, readTensor } from './reader.ts';
import { type GoldenOutputs, GoldenRunner } from './run_case.ts';

export interface DerivedCase {
  /** The derived case folder (case.json + expected tensors). */
  dir: string;
  /** Quantisation error per expected tensor: max |quantised − float| / max |float|, and token agreement. */
  drift: string;
}

const FILES: Array<[key: string, field: keyof GoldenOutputs, file: string]> = [
  ['vision_tower_out', 'visionTowerOut', 'vision_tower_out.bin'],
  ['image_features', 'imageFeatures', 'image_features.bin'],
  ['logits', 'logits', 'logits.bin'],
  ['step_logits', 'stepLogits', 'step_logits.bin'],
];

/**
 * Derives every case under `outRoot/<case name>` from the reference backend on `modelFor(case)` (the
 * converted copy, or the stored model quantised on load with `quant`). Returns case dir → derived case.
 */
export async function deriveCases(
  caseDirs: string[],
  modelFor: Map<string, string>,
  quant: 'none' | 'q8' | 'q4',
  outRoot: string,
): Promise<Map<string, DerivedCase>> {
  const runner = new GoldenRunner(createRefKernels(), nodeGoldenIO, quant);
  const out = new Map<string, DerivedCase>();
  for (const dir of caseDirs) {
    const c = await readCase(nodeGoldenIO, dir);
    const got: GoldenOutputs = {};
    await runner.run(dir, modelFor.get(dir), got);
    const json = JSON.parse(readFileSync(joinPath(dir, 'case.json'), 'utf8')) as Record<string, unknown>;
    const expected = json.expected as Record<string, unknown>;
    const target = resolve(outRoot, c.name);
    mkdirSync(target, { recursive: true });
    const drift: string[] = [];
    for (const [key, field, file] of FILES) {
      const ref = expected[key] as { file: string } | undefined;
      const values = got[field] as Float32Array | undefined;
      if (!ref || !values) continue;
      const float = await readTensor(nodeGoldenIO, c, { ...ref, dtype: 'float32', shape: [] });
      drift.push(`${key}=${maxRelError(values, float).toExponential(1)}`);
      writeFileSync(
        resolve(target, file),
        new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
      );
      expected[key] = { ...ref, file };
    }
    const same = got.newTokens!.filter((t, i) => t === c.expected.newTokens[i]).length;
    drift.push(`new_tokens ${same}/${c.expected.newTokens.length} as float`);
    expected.new_tokens = got.newTokens;
    // pixels are computed before any weight: the float golden stays the expectation
    if (expected.pixel_values) {
      const px = expected.pixel_values as { file: string };
      expected.pixel_values = { ...px, file: joinPath(dir, px.file) };
    }
    json.model = c.modelDir;
    json.images = c.images;
    json.images_info = (json.images_info as Array<Record<string, unknown>> | undefined)?.map((info, i) => ({
      ...info,
      file: c.images[i],
    }));
    delete json.debug; // the float model's routing is not the quantised model's
    writeFileSync(resolve(target, 'case.json'), `${JSON.stringify(json, null, 1)}\n`);
    out.set(dir, { dir: target, drift: drift.join(' ') });
  }
  await runner.release();
  return out;
}
