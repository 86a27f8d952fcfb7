// Golden-case reading for the language tests (Node). The lead's src/golden/case.ts is the general reader;
// this stays a small test helper so the LM tests depend only on the files.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { GOLDEN_ROOT } from '../golden/location.ts';

export const GOLDEN_DIR = GOLDEN_ROOT;

export interface TensorEntry {
  file: string;
  shape: number[];
}

export interface GoldenCase {
  name: string;
  dir: string;
  modelDir: string;
  inputIds: number[];
  expected: {
    logits: TensorEntry;
    step_logits: TensorEntry;
    new_tokens: number[];
    image_features?: TensorEntry;
  };
  debug?: { routing_prompt?: { moe_layers: number[]; experts: number[][][] } };
}

export function listCases(root = GOLDEN_DIR): GoldenCase[] {
  const casesDir = join(root, 'cases');
  return readdirSync(casesDir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const dir = join(casesDir, name);
      const j = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8'));
      return {
        name,
        dir,
        modelDir: resolve(dir, j.model),
        inputIds: j.input_ids,
        expected: j.expected,
        debug: j.debug,
      };
    });
}

export function readF32(c: GoldenCase, e: TensorEntry): Float32Array {
  const b = readFileSync(join(c.dir, e.file));
  const out = new Float32Array(b.byteLength / 4);
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/** The golden tolerance metric: max |got − exp| / max |exp|. */
export function maxRelError(got: ArrayLike<number>, exp: ArrayLike<number>): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < exp.length; i++) {
    d = Math.max(d, Math.abs(got[i]! - exp[i]!));
    m = Math.max(m, Math.abs(exp[i]!));
  }
  return d / m;
}
