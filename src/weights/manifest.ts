// The converted checkpoint format "kimi-vl-web", manifest version 1.
//
// A converted folder holds safetensors shards whose tensors already carry ENGINE names (config/weight_names.ts),
// engine shapes (experts stacked) and their final dtype, plus `kimi-vl-manifest.json`:
//   { format: "kimi-vl-web", version: 1,
//     quant: "q8" | "q4" | "f16",        // what `kimi-vl convert --quant` produced
//     quantFormat: "kvq1",                // block format of KVQ8/KVQ4 tensors (src/tensor/quant_format.ts)
//     config: {...config.json...}, preprocessor: {...} | null, files: [copied side files],
//     tensors: [{ name, dtype: "q8"|"q4"|"f16"|"bf16"|"f32", shape, shard, offset, bytes }],
//     shards:  [{ file, bytes, sha256 }] }
// `offset` is the absolute byte offset of the tensor's data in its shard (a Range request can fetch
// it directly), `bytes` its length, `sha256` the hex digest of the whole shard file. The shard
// headers are still complete safetensors headers (dtypes KVQ8/KVQ4 for quantised blobs), so the
// same reader checks them; the manifest must agree with them exactly.
import { KimiVLError } from '../errors.ts';
import type { WeightDType } from '../tensor/types.ts';
import { isPlainFileName } from './index_json.ts';
import {
  SAFETENSORS_TO_WEIGHT,
  type SafetensorsFile,
  tensorByteSize,
  WEIGHT_TO_SAFETENSORS,
} from './safetensors.ts';

export const MANIFEST_FILE = 'kimi-vl-manifest.json';
export const MANIFEST_FORMAT = 'kimi-vl-web';
export const MANIFEST_VERSION = 1;

export type ConvertQuant = 'q8' | 'q4' | 'f16';

export interface ManifestTensor {
  name: string;
  dtype: WeightDType;
  shape: number[];
  shard: string;
  offset: number;
  bytes: number;
}

export interface ManifestShard {
  file: string;
  bytes: number;
  sha256: string;
}

export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  version: typeof MANIFEST_VERSION;
  quant: ConvertQuant;
  quantFormat: 'kvq1';
  config: Record<string, unknown>;
  preprocessor: Record<string, unknown> | null;
  /** Side files copied next to the shards (config.json, tokenizer files, ...). */
  files: string[];
  tensors: ManifestTensor[];
  shards: ManifestShard[];
}

function fail(message: string): never {
  throw new KimiVLError('CheckpointError', `${MANIFEST_FILE}: ${message}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const WEIGHT_DTYPES: readonly string[] = ['f32', 'f16', 'bf16', 'q8', 'q4'];

function parseTensor(v: unknown, i: number): ManifestTensor {
  if (!isObject(v)) fail(`tensors[${i}] must be an object`);
  const { name, dtype, shape, shard, offset, bytes } = v;
  if (typeof name !== 'string' || name.length === 0) fail(`tensors[${i}].name must be a non-empty string`);
  if (typeof dtype !== 'string' || !WEIGHT_DTYPES.includes(dtype))
    fail(`tensor "${name}": unknown dtype ${JSON.stringify(dtype)}`);
  if (!Array.isArray(shape) || shape.some((d) => !Number.isSafeInteger(d) || d < 0))
    fail(`tensor "${name}": shape must be a list of non-negative integers`);
  if (typeof shard !== 'string' || !isPlainFileName(shard))
    fail(`tensor "${name}": shard must be a plain file name`);
  if (!Number.isSafeInteger(offset) || (offset as number) < 8) fail(`tensor "${name}": bad offset ${offset}`);
  if (!Number.isSafeInteger(bytes) || (bytes as number) < 0)
    fail(`tensor "${name}": bad byte count ${bytes}`);
  return {
    name,
    dtype: dtype as WeightDType,
    shape: shape as number[],
    shard,
    offset: offset as number,
    bytes: bytes as number,
  };
}

export function parseManifest(json: unknown): Manifest {
  if (!isObject(json)) fail('must be a JSON object');
  if (json.format !== MANIFEST_FORMAT)
    fail(`format is ${JSON.stringify(json.format)}, expected "${MANIFEST_FORMAT}"`);
  if (json.version !== MANIFEST_VERSION)
    fail(
      `version ${JSON.stringify(json.version)} is not supported (this build reads version ${MANIFEST_VERSION}); re-run kimi-vl convert`,
    );
  if (json.quant !== 'q8' && json.quant !== 'q4' && json.quant !== 'f16')
    fail(`quant must be "q8", "q4" or "f16", got ${JSON.stringify(json.quant)}`);
  if (json.quantFormat !== 'kvq1')
    fail(`quantFormat ${JSON.stringify(json.quantFormat)} is not supported (expected "kvq1")`);
  if (!isObject(json.config)) fail('config must be the copied config.json object');
  const pre = json.preprocessor;
  if (pre !== null && pre !== undefined && !isObject(pre)) fail('preprocessor must be an object or null');
  const files = json.files ?? [];
  if (!Array.isArray(files) || files.some((f) => typeof f !== 'string' || !isPlainFileName(f)))
    fail('files must be a list of plain file names');
  if (!Array.isArray(json.tensors)) fail('tensors must be a list');
  if (!Array.isArray(json.shards) || json.shards.length === 0) fail('shards must be a non-empty list');
  const shards = json.shards.map((s: unknown, i: number): ManifestShard => {
    if (!isObject(s) || typeof s.file !== 'string' || !isPlainFileName(s.file))
      fail(`shards[${i}].file must be a plain file name`);
    if (!Number.isSafeInteger(s.bytes) || (s.bytes as number) < 8)
      fail(`shards[${i}].bytes is not a file size`);
    if (typeof s.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(s.sha256))
      fail(`shards[${i}].sha256 must be 64 hex digits`);
    return { file: s.file, bytes: s.bytes as number, sha256: s.sha256 };
  });
  const tensors = json.tensors.map(parseTensor);
  const seen = new Set<string>();
  for (const t of tensors) {
    if (seen.has(t.name)) fail(`tensor "${t.name}" is listed twice`);
    seen.add(t.name);
    if (!shards.some((s) => s.file === t.shard))
      fail(`tensor "${t.name}" names shard "${t.shard}", not in shards`);
  }
  return {
    format: MANIFEST_FORMAT,
    version: MANIFEST_VERSION,
    quant: json.quant,
    quantFormat: 'kvq1',
    config: json.config,
    preprocessor: isObject(pre) ? pre : null,
    files: files as string[],
    tensors,
    shards,
  };
}

/** The manifest must describe exactly what the shard headers say (dtype, shape, offset, size). */
export function checkManifestAgainstShards(m: Manifest, shards: ReadonlyMap<string, SafetensorsFile>): void {
  for (const s of m.shards) {
    const f = shards.get(s.file);
    if (!f) fail(`shard "${s.file}" was not opened`);
    if (f.fileSize !== s.bytes)
      fail(`shard "${s.file}" is ${f.fileSize} bytes, the manifest says ${s.bytes}`);
  }
  let count = 0;
  for (const t of m.tensors) {
    const h = shards.get(t.shard)?.tensors.get(t.name);
    if (!h) fail(`tensor "${t.name}" is not in the header of "${t.shard}"`);
    const agrees =
      SAFETENSORS_TO_WEIGHT[h.dtype] === t.dtype &&
      h.shape.length === t.shape.length &&
      h.shape.every((d, i) => d === t.shape[i]) &&
      h.start === t.offset &&
      h.end - h.start === t.bytes &&
      tensorByteSize(WEIGHT_TO_SAFETENSORS[t.dtype], t.shape) === t.bytes;
    if (!agrees)
      fail(`tensor "${t.name}" disagrees with the header of "${t.shard}" (dtype, shape, offset or size)`);
  }
  for (const f of shards.values()) count += f.tensors.size;
  if (count !== m.tensors.length) fail(`lists ${m.tensors.length} tensors but the shards hold ${count}`);
}
