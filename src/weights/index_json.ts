// model.safetensors.index.json: {"metadata": {"total_size": n}, "weight_map": {tensor: shard file}}.
// The shard names come from a file we do not trust, so they are checked to be plain file names
// before anyone joins them to a path or a URL.
import { KimiVLError } from '../errors.ts';
import type { SafetensorsFile } from './safetensors.ts';

export const INDEX_FILE = 'model.safetensors.index.json';

export interface SafetensorsIndex {
  totalSize: number | null;
  /** tensor name → shard file name */
  weightMap: Map<string, string>;
  /** Distinct shard files in first-seen order. */
  shards: string[];
}

function fail(message: string): never {
  throw new KimiVLError('CheckpointError', `${INDEX_FILE}: ${message}`);
}

/** A shard name must be a plain file name in the checkpoint folder (no path, no URL, no ".."). */
export function isPlainFileName(name: string): boolean {
  return /^[A-Za-z0-9_.-]+$/.test(name) && name !== '.' && name !== '..' && !name.startsWith('..');
}

export function parseIndexJson(json: unknown): SafetensorsIndex {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail('must be a JSON object');
  const o = json as Record<string, unknown>;
  const wm = o.weight_map;
  if (typeof wm !== 'object' || wm === null || Array.isArray(wm)) fail('"weight_map" must be an object');
  const weightMap = new Map<string, string>();
  const shards: string[] = [];
  for (const name of Object.keys(wm)) {
    const shard = (wm as Record<string, unknown>)[name];
    if (typeof shard !== 'string' || !isPlainFileName(shard) || !shard.endsWith('.safetensors'))
      fail(
        `weight_map["${name}"] must name a .safetensors file in the same folder, got ${JSON.stringify(shard)}`,
      );
    weightMap.set(name, shard);
    if (!shards.includes(shard)) shards.push(shard);
  }
  if (weightMap.size === 0) fail('"weight_map" is empty');
  let totalSize: number | null = null;
  const meta = o.metadata;
  if (meta !== undefined && meta !== null) {
    if (typeof meta !== 'object' || Array.isArray(meta)) fail('"metadata" must be an object');
    const ts = (meta as Record<string, unknown>).total_size;
    if (ts !== undefined) {
      if (!Number.isSafeInteger(ts) || (ts as number) < 0) fail('"metadata.total_size" must be a byte count');
      totalSize = ts as number;
    }
  }
  return { totalSize, weightMap, shards };
}

/** Every tensor the index names must be in the shard it names, and every shard tensor must be indexed. */
export function checkIndexAgainstShards(
  index: SafetensorsIndex,
  shards: ReadonlyMap<string, SafetensorsFile>,
): void {
  for (const [name, file] of index.weightMap) {
    const shard = shards.get(file);
    if (!shard) fail(`names shard "${file}", which was not opened`);
    if (!shard.tensors.has(name))
      fail(`says tensor "${name}" is in "${file}", but that shard's header lacks it`);
  }
  for (const [file, shard] of shards) {
    for (const name of shard.tensors.keys()) {
      const listed = index.weightMap.get(name);
      if (listed !== file)
        fail(
          listed === undefined
            ? `does not list tensor "${name}" found in "${file}"`
            : `lists tensor "${name}" in "${listed}" but it is (also) in "${file}"`,
        );
    }
  }
}
