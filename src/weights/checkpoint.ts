// Opening a checkpoint through any file access (a Node folder, HTTP Range requests, the browser
// cache): config.json and preprocessor_config.json parsed, every safetensors header checked, the
// sharding index or the converted manifest cross-checked, and every tensor checked against the
// shapes config.json implies. Only then does anyone read tensor bytes (through a TensorSource).
//
// Two layouts are accepted:
//   - Hugging Face: model.safetensors.index.json + shards (or one model.safetensors), HF names.
//   - kimi-vl-web converted (manifest.ts): kimi-vl-manifest.json + shards, engine names.

import { impliedTensorCount, MAX_TENSORS } from '../config/bounds.ts';
import {
  type ImageProcessorConfig,
  type KimiVLConfig,
  parseConfig,
  tensorCountInput,
} from '../config/config.ts';
import { isIgnoredHfTensor, weightTable } from '../config/weight_names.ts';
import { KimiVLError } from '../errors.ts';
import { parsePreprocessorConfig } from '../vision/preprocessor_config.ts';
import { checkIndexAgainstShards, INDEX_FILE, parseIndexJson } from './index_json.ts';
import { checkManifestAgainstShards, MANIFEST_FILE, type Manifest, parseManifest } from './manifest.ts';
import {
  parseSafetensorsHeader,
  type SafetensorsDType,
  type SafetensorsFile,
  safetensorsHeaderLength,
} from './safetensors.ts';

export const CONFIG_FILE = 'config.json';
export const PREPROCESSOR_FILE = 'preprocessor_config.json';
export const SINGLE_FILE = 'model.safetensors';

/** Read access to the files of one checkpoint folder. Implementations: node_source.ts, url_files.ts. */
export interface CheckpointFiles {
  /** Folder path or base URL, for messages. */
  readonly location: string;
  exists(file: string): Promise<boolean>;
  /** Size in bytes; throws CheckpointError when the file is missing. */
  size(file: string): Promise<number>;
  /** Exactly the bytes [start, end) of the file; throws when fewer come back. */
  readRange(file: string, start: number, end: number): Promise<Uint8Array>;
  readText(file: string): Promise<string>;
  /** Hex sha256 of a whole file, when the implementation can stream it (else the whole file is read). */
  sha256?(file: string): Promise<string>;
}

export interface TensorInfo {
  dtype: SafetensorsDType;
  shape: number[];
  /** Byte length of the stored data. */
  bytes: number;
  file: string;
  /** Absolute offsets in `file`. */
  start: number;
  end: number;
}

/** Named tensors of one checkpoint; `read` fetches only that tensor's byte range. */
export interface TensorSource {
  /** 'hf': Hugging Face names (assembly renames and stacks); 'engine': a converted checkpoint. */
  readonly naming: 'hf' | 'engine';
  list(): string[];
  has(name: string): boolean;
  info(name: string): TensorInfo;
  read(name: string): Promise<Uint8Array>;
}

export interface OpenedCheckpoint {
  format: 'hf' | 'kimi-vl-web';
  config: KimiVLConfig;
  preprocessor: ImageProcessorConfig | null;
  manifest: Manifest | null;
  shards: SafetensorsFile[];
  source: TensorSource;
  /** What was verified, for `kimi-vl inspect`. */
  checks: string[];
}

export interface OpenOptions {
  /** Hash every shard and compare with the manifest (converted checkpoints only). */
  verifySha256?: boolean;
}

function checkpointError(message: string): never {
  throw new KimiVLError('CheckpointError', message);
}

async function readJson(files: CheckpointFiles, file: string, errorName: 'ConfigError' | 'CheckpointError') {
  const text = await files.readText(file);
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new KimiVLError(
      errorName,
      `${file} in ${files.location} is not valid JSON (${(e as Error).message})`,
    );
  }
}

/** Reads and validates one shard's header with two small reads (length, then header). */
export async function readSafetensorsHeader(files: CheckpointFiles, file: string): Promise<SafetensorsFile> {
  const size = await files.size(file);
  const first8 = await files.readRange(file, 0, Math.min(8, size));
  const n = safetensorsHeaderLength(first8, size, file);
  return parseSafetensorsHeader(await files.readRange(file, 0, 8 + n), size, file);
}

class ShardedSource implements TensorSource {
  private readonly infos = new Map<string, TensorInfo>();
  constructor(
    readonly naming: 'hf' | 'engine',
    private readonly files: CheckpointFiles,
    shards: readonly SafetensorsFile[],
  ) {
    for (const s of shards) {
      for (const [name, t] of s.tensors) {
        if (this.infos.has(name))
          checkpointError(`tensor "${name}" is in two shards (${this.infos.get(name)!.file}, ${s.fileName})`);
        this.infos.set(name, { ...t, bytes: t.end - t.start, file: s.fileName });
      }
    }
  }
  list(): string[] {
    return [...this.infos.keys()];
  }
  has(name: string): boolean {
    return this.infos.has(name);
  }
  info(name: string): TensorInfo {
    const i = this.infos.get(name);
    if (!i) checkpointError(`tensor "${name}" is not in the checkpoint`);
    return i;
  }
  async read(name: string): Promise<Uint8Array> {
    const i = this.info(name);
    return this.files.readRange(i.file, i.start, i.end);
  }
}

/** A TensorSource over already-validated shard headers. */
export function shardedSource(
  naming: 'hf' | 'engine',
  files: CheckpointFiles,
  shards: readonly SafetensorsFile[],
): TensorSource {
  return new ShardedSource(naming, files, shards);
}

const same = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * Before the weight table is built from config.json's sizes: the number of tensors they imply is
 * computed (bounds.ts) and held against the checkpoint's own count, so a config claiming far more
 * layers or experts than the files hold is refused without iterating its claim. A small difference is
 * left to the per-tensor check below, which names the missing or extra tensor.
 */
function checkTensorCount(config: KimiVLConfig, source: TensorSource): void {
  const stored = source.list();
  if (stored.length > MAX_TENSORS)
    checkpointError(`the checkpoint holds ${stored.length} tensors; kimi-vl-web's bound is ${MAX_TENSORS}`);
  const held = source.naming === 'hf' ? stored.filter((n) => !isIgnoredHfTensor(n)).length : stored.length;
  const implied = impliedTensorCount(tensorCountInput(config.vision, config.text), source.naming);
  // Room for the detailed check to name what differs, at a cost bounded by the stored count.
  if (implied > 2 * held + 64) {
    const { vision: v, text: t } = config;
    checkpointError(
      `config.json implies ${implied} tensors (vision num_hidden_layers ${v.numLayers}, text num_hidden_layers ` +
        `${t.numLayers}, n_routed_experts ${t.nRoutedExperts}) but the checkpoint holds ${held}: ` +
        'the config does not describe these files',
    );
  }
}

/**
 * Every tensor the config implies must be present with the implied shape and a usable dtype; any
 * other tensor (not a known-ignored buffer) means a different architecture and is refused.
 */
export function checkTensorsAgainstConfig(config: KimiVLConfig, source: TensorSource): void {
  checkTensorCount(config, source);
  const expected = new Set<string>();
  for (const spec of weightTable(config)) {
    const names = source.naming === 'hf' ? spec.hf : [spec.name];
    const shape = source.naming === 'hf' ? spec.hfShape : spec.shape;
    for (const name of names) {
      expected.add(name);
      if (!source.has(name)) checkpointError(`missing tensor "${name}" (engine weight ${spec.name})`);
      const info = source.info(name);
      if (!same(info.shape, shape))
        checkpointError(
          `tensor "${name}" has shape [${info.shape}] but config.json implies [${shape}] (engine ${spec.name})`,
        );
      const quantised = info.dtype === 'KVQ8' || info.dtype === 'KVQ4';
      if (quantised && (source.naming === 'hf' || !spec.quantizable))
        checkpointError(`tensor "${name}" is ${info.dtype}; only LM linear weights may be quantised`);
    }
  }
  for (const name of source.list()) {
    if (expected.has(name) || (source.naming === 'hf' && isIgnoredHfTensor(name))) continue;
    checkpointError(
      `unexpected tensor "${name}": the checkpoint does not match config.json (or is not Kimi-VL)`,
    );
  }
}

async function openShards(
  files: CheckpointFiles,
  names: readonly string[],
): Promise<Map<string, SafetensorsFile>> {
  const out = new Map<string, SafetensorsFile>();
  for (const file of names) {
    if (!(await files.exists(file))) checkpointError(`shard "${file}" is missing from ${files.location}`);
    out.set(file, await readSafetensorsHeader(files, file));
  }
  return out;
}

async function sha256Hex(files: CheckpointFiles, file: string): Promise<string> {
  if (files.sha256) return files.sha256(file);
  const bytes = await files.readRange(file, 0, await files.size(file));
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

async function openConverted(files: CheckpointFiles, opts: OpenOptions, checks: string[]) {
  const manifest = parseManifest(await readJson(files, MANIFEST_FILE, 'CheckpointError'));
  checks.push(`${MANIFEST_FILE}: format ${manifest.format} v${manifest.version}, quant ${manifest.quant}`);
  const config = parseConfig(manifest.config, `${MANIFEST_FILE} config`);
  const preprocessor = manifest.preprocessor ? parsePreprocessorConfig(manifest.preprocessor) : null;
  const shards = await openShards(
    files,
    manifest.shards.map((s) => s.file),
  );
  checks.push(`${shards.size} shard header(s) parsed and bounded`);
  checkManifestAgainstShards(manifest, shards);
  checks.push('manifest agrees with every shard header');
  if (opts.verifySha256) {
    for (const s of manifest.shards) {
      const got = await sha256Hex(files, s.file);
      if (got !== s.sha256)
        checkpointError(`shard "${s.file}" sha256 ${got} differs from the manifest (corrupt download?)`);
    }
    checks.push('sha256 of every shard verified');
  }
  return { manifest, config, preprocessor, shards };
}

async function openHf(files: CheckpointFiles, checks: string[]) {
  const config = parseConfig(await readJson(files, CONFIG_FILE, 'ConfigError'));
  checks.push(`${CONFIG_FILE} parsed and supported`);
  const preprocessor = (await files.exists(PREPROCESSOR_FILE))
    ? parsePreprocessorConfig(await readJson(files, PREPROCESSOR_FILE, 'ConfigError'))
    : null;
  if (preprocessor) checks.push(`${PREPROCESSOR_FILE} parsed`);
  let shards: Map<string, SafetensorsFile>;
  if (await files.exists(INDEX_FILE)) {
    const index = parseIndexJson(await readJson(files, INDEX_FILE, 'CheckpointError'));
    shards = await openShards(files, index.shards);
    checks.push(`${shards.size} shard header(s) parsed and bounded`);
    checkIndexAgainstShards(index, shards);
    checks.push(`${INDEX_FILE}: every tensor found in its shard`);
    // Informational only: exporters disagree on what total_size counts, so a mismatch is not fatal.
    const stored = [...shards.values()].reduce((a, s) => a + s.fileSize - s.dataStart, 0);
    if (index.totalSize !== null)
      checks.push(
        index.totalSize === stored
          ? `${INDEX_FILE}: total_size ${stored} equals the shards' data bytes`
          : `${INDEX_FILE}: total_size ${index.totalSize} differs from the shards' ${stored} data bytes (not fatal)`,
      );
  } else if (await files.exists(SINGLE_FILE)) {
    shards = await openShards(files, [SINGLE_FILE]);
    checks.push(`${SINGLE_FILE} header parsed and bounded`);
  } else {
    checkpointError(`no ${MANIFEST_FILE}, ${INDEX_FILE} or ${SINGLE_FILE} in ${files.location}`);
  }
  return { config, preprocessor, shards };
}

/** Opens and validates a Hugging Face or converted checkpoint; reads headers only, never tensor data. */
export async function openCheckpoint(
  files: CheckpointFiles,
  opts: OpenOptions = {},
): Promise<OpenedCheckpoint> {
  const checks: string[] = [];
  const converted = await files.exists(MANIFEST_FILE);
  const opened = converted
    ? await openConverted(files, opts, checks)
    : { manifest: null, ...(await openHf(files, checks)) };
  const { config, preprocessor } = opened;
  if (preprocessor && preprocessor.patchSize !== config.vision.patchSize)
    throw new KimiVLError(
      'ConfigError',
      `${PREPROCESSOR_FILE} patch_size ${preprocessor.patchSize} differs from vision_config.patch_size ${config.vision.patchSize}`,
    );
  const shards = [...opened.shards.values()];
  const source = shardedSource(converted ? 'engine' : 'hf', files, shards);
  checkTensorsAgainstConfig(config, source);
  checks.push(`all ${source.list().length} tensors match the shapes config.json implies`);
  return {
    format: converted ? 'kimi-vl-web' : 'hf',
    config,
    preprocessor,
    manifest: opened.manifest,
    shards,
    source,
    checks,
  };
}
