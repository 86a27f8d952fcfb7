// What a model is, from its small files only (config.json, preprocessor_config.json, the sharding index
// or the converted manifest: kilobytes), through any CheckpointFiles: a URL (Range probes), the browser
// cache, local files. The load reads it before any shard is requested (a malformed config or
// preprocessor costs one small request, an adapter too small for the model stops here), and
// KimiVL.check / `kimi-vl check` build their verdict from it.
import { type ImageProcessorConfig, type KimiVLConfig, parseConfig } from '../config/config.ts';
import { KimiVLError } from '../errors.ts';
import { PREPROCESSOR_FILE, parsePreprocessorConfig } from '../vision/preprocessor_config.ts';
import type { CheckpointFiles } from './checkpoint.ts';
import { INDEX_FILE, parseIndexJson } from './index_json.ts';
import { runBounded } from './load_progress.ts';
import { MANIFEST_FILE, parseManifest } from './manifest.ts';

const CONFIG = 'config.json';
const SINGLE = 'model.safetensors';

export interface ModelMeta {
  location: string;
  config: KimiVLConfig;
  preprocessor: ImageProcessorConfig | null;
  /** 'hf' = an original Hugging Face checkpoint; 'kimi-vl-web' = a converted one. */
  format: 'hf' | 'kimi-vl-web';
  /** How the language weights are stored: bf16 for HF (the released dtype), else the manifest's form. */
  stored: 'bf16' | 'q8' | 'q4' | 'f16';
  /** Shard files with their sizes (null when sizes were not asked for). */
  shards: { name: string; size: number | null }[];
}

async function json(files: CheckpointFiles, name: string, error: 'ConfigError' | 'CheckpointError') {
  const text = await files.readText(name);
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new KimiVLError(error, `${name} in ${files.location} is not valid JSON (${(e as Error).message})`);
  }
}

/**
 * Reads and parses the small files; with `sizes`, probes every shard's size too (one tiny request per
 * shard over HTTP). Throws ConfigError / CheckpointError exactly as the full load would.
 */
export async function readModelMeta(
  files: CheckpointFiles,
  opts: { sizes?: boolean; concurrency?: number } = {},
): Promise<ModelMeta> {
  const [hasManifest, hasPre] = await Promise.all([
    files.exists(MANIFEST_FILE),
    files.exists(PREPROCESSOR_FILE),
  ]);
  let config: KimiVLConfig;
  let preprocessor: ImageProcessorConfig | null = null;
  let shards: ModelMeta['shards'];
  let stored: ModelMeta['stored'] = 'bf16';
  if (hasManifest) {
    const m = parseManifest(await json(files, MANIFEST_FILE, 'CheckpointError'));
    config = parseConfig(m.config, `${MANIFEST_FILE} config`);
    preprocessor = m.preprocessor ? parsePreprocessorConfig(m.preprocessor) : null;
    stored = m.quant;
    shards = m.shards.map((s) => ({ name: s.file, size: s.bytes }));
  } else {
    if (!(await files.exists(CONFIG)))
      throw new KimiVLError(
        'CheckpointError',
        `${files.location} has no ${CONFIG}; is it a Kimi-VL model folder?`,
      );
    // config and preprocessor first: an unsupported model fails before the index is even read.
    config = parseConfig(await json(files, CONFIG, 'ConfigError'), CONFIG);
    if (hasPre) preprocessor = parsePreprocessorConfig(await json(files, PREPROCESSOR_FILE, 'ConfigError'));
    const names = (await files.exists(INDEX_FILE))
      ? parseIndexJson(await json(files, INDEX_FILE, 'CheckpointError')).shards
      : [SINGLE];
    shards = names.map((name) => ({ name, size: null }));
    if (opts.sizes)
      await runBounded(shards, opts.concurrency ?? 4, async (s) => {
        s.size = await files.size(s.name);
      });
  }
  if (hasManifest && hasPre) {
    // A converted copy carries the preprocessor inside its manifest; a separate file must parse too.
    parsePreprocessorConfig(await json(files, PREPROCESSOR_FILE, 'ConfigError'));
  }
  if (preprocessor && preprocessor.patchSize !== config.vision.patchSize)
    throw new KimiVLError(
      'ConfigError',
      `${PREPROCESSOR_FILE} patch_size ${preprocessor.patchSize} differs from vision_config.patch_size ${config.vision.patchSize}`,
    );
  return {
    location: files.location,
    config,
    preprocessor,
    format: hasManifest ? 'kimi-vl-web' : 'hf',
    stored,
    shards,
  };
}
