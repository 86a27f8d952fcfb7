// Golden file access from Node (CLI --backend ref, unit tests).
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { nodeFiles } from '../weights/node_source.ts';
import type { GoldenIO } from './reader.ts';

export const nodeGoldenIO: GoldenIO = {
  readBytes: async (p) => new Uint8Array(await readFile(p)),
  checkpointFiles: (dir) => nodeFiles(dir),
};

/** Every case folder (holding case.json) under `<root>/cases`, or `root` itself if it is one case. */
export function discoverCases(root: string): string[] {
  const abs = resolve(root);
  if (existsSync(join(abs, 'case.json'))) return [abs];
  const casesDir = join(abs, 'cases');
  if (!existsSync(casesDir)) return [];
  return readdirSync(casesDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(casesDir, d.name, 'case.json')))
    .map((d) => join(casesDir, d.name))
    .sort();
}
