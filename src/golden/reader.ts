// The one reader of golden-format directories (../shared/golden/README.md): the suite's case list, one
// case's case.json, its expected tensors and its model checkpoint. File access is a GoldenIO, so the same
// code reads from Node (node_io.ts: fs) and from a page (browser_io.ts: fetch through Vite's /@fs/).
import type { ImageProcessorConfig, KimiVLConfig } from '../config/config.ts';
import type { HostWeight } from '../tensor/types.ts';
import { assembleWeights } from '../weights/assemble.ts';
import { type CheckpointFiles, openCheckpoint } from '../weights/checkpoint.ts';
import { f32FromBytes, type GoldenCase, type GoldenTensorRef, joinPath, parseCase } from './case.ts';

export interface GoldenIO {
  readBytes(path: string): Promise<Uint8Array>;
  checkpointFiles(dir: string): CheckpointFiles;
}

export async function readJson(io: GoldenIO, path: string): Promise<unknown> {
  return JSON.parse(new TextDecoder().decode(await io.readBytes(path)));
}

/** The case folders `<root>/suite.json` names, in its order (a browser cannot list a folder). */
export async function suiteCaseDirs(io: GoldenIO, root: string): Promise<string[]> {
  const suite = (await readJson(io, joinPath(root, 'suite.json'))) as { cases: { case: string }[] };
  return suite.cases.map((c) => joinPath(root, `cases/${c.case}`));
}

/** One case folder's case.json, parsed; the case is named after its folder. */
export async function readCase(io: GoldenIO, caseDir: string): Promise<GoldenCase> {
  return parseCase(caseDir.split('/').pop()!, caseDir, await readJson(io, joinPath(caseDir, 'case.json')));
}

export function readCases(io: GoldenIO, caseDirs: readonly string[]): Promise<GoldenCase[]> {
  return Promise.all(caseDirs.map((d) => readCase(io, d)));
}

/** An expected (or debug) tensor of a case as f32 values. */
export async function readTensor(io: GoldenIO, c: GoldenCase, ref: GoldenTensorRef): Promise<Float32Array> {
  return f32FromBytes(await io.readBytes(joinPath(c.dir, ref.file)));
}

export interface GoldenModel {
  config: KimiVLConfig;
  preprocessor: ImageProcessorConfig | null;
  /** Engine-named host weights (assembled from the checkpoint's tensors). */
  host: Map<string, HostWeight>;
}

export interface LoadModelOptions {
  quant?: 'none' | 'q8' | 'q4';
  /** Keeps only the weights whose engine name passes (e.g. a vision test needs no language weights). */
  keep?: (name: string) => boolean;
}

/** A case's model folder (or a converted copy of it) with all its engine weights in memory. */
export async function loadGoldenModel(
  io: GoldenIO,
  modelDir: string,
  { quant = 'none', keep = () => true }: LoadModelOptions = {},
): Promise<GoldenModel> {
  const ck = await openCheckpoint(io.checkpointFiles(modelDir));
  const host = new Map<string, HostWeight>();
  for await (const [name, w] of assembleWeights(ck.config, ck.source, { quant }))
    if (keep(name)) host.set(name, w);
  return { config: ck.config, preprocessor: ck.preprocessor, host };
}

/** `load` once per folder: the golden tests' cases share their model (the weights, a loaded model). */
export function perFolder<T>(load: (dir: string) => Promise<T>): (dir: string) => Promise<T> {
  const done = new Map<string, Promise<T>>();
  return (dir) => {
    let m = done.get(dir);
    if (!m) {
      m = load(dir);
      done.set(dir, m);
    }
    return m;
  };
}
