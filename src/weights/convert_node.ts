// `kimi-vl convert`: Hugging Face checkpoint folder → kimi-vl-web converted folder (manifest.ts).
// Streams one engine weight at a time: only that weight's source byte ranges are read (file handle,
// positioned reads), it is renamed/stacked/quantised (assemble.ts) and appended to the current shard
// while the shard's sha256 is updated. Peak memory ≈ one stacked weight, never a whole shard.
//
// Shard sizes are known before any tensor is read (dtype and shape fix every byte count), so each
// shard's safetensors header is written first and its data after. The manifest is written last,
// through a rename, so an interrupted run never leaves a folder that looks complete.
import { createHash } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { KimiVLError } from '../errors.ts';
import { type AssembleOptions, assembleOne, planAssembly } from './assemble.ts';
import { CONFIG_FILE, PREPROCESSOR_FILE } from './checkpoint.ts';
import { INDEX_FILE } from './index_json.ts';
import {
  type ConvertQuant,
  MANIFEST_FILE,
  MANIFEST_FORMAT,
  MANIFEST_VERSION,
  type Manifest,
  type ManifestShard,
  type ManifestTensor,
} from './manifest.ts';
import { nodeFiles, openCheckpointDir } from './node_source.ts';
import { encodeSafetensorsHeader } from './safetensors.ts';
import { planShards } from './shard_plan.ts';

export const DEFAULT_SHARD_BYTES = 1_000_000_000;

export interface ConvertOptions {
  quant: ConvertQuant;
  /** Upper bound on a shard's data bytes (a single larger weight gets a shard of its own). */
  shardBytes?: number;
  /** Replace an existing converted folder. */
  force?: boolean;
  onProgress?: (p: ConvertProgress) => void;
}

export interface ConvertProgress {
  index: number;
  count: number;
  name: string;
  dtype: string;
  bytes: number;
  bytesDone: number;
  bytesTotal: number;
  seconds: number;
}

/** What each --quant means for assembly: q8/q4 quantise the LM, vision/projector become f16; f16 = bf16→f16 everywhere. */
export function assembleOptionsFor(quant: ConvertQuant): AssembleOptions {
  return quant === 'f16' ? { quant: 'none', f16: 'all' } : { quant, f16: 'vision' };
}

/** Side files worth keeping next to the weights (configs, tokenizer, chat template). */
function isSideFile(name: string): boolean {
  return name !== INDEX_FILE && name !== MANIFEST_FILE && /\.(json|model|tiktoken|jinja|txt)$/.test(name);
}

export async function convertCheckpoint(
  srcDir: string,
  outDir: string,
  opts: ConvertOptions,
): Promise<Manifest> {
  if (resolve(srcDir) === resolve(outDir))
    throw new KimiVLError('CheckpointError', 'the output folder must differ from the checkpoint folder');
  const ck = await openCheckpointDir(srcDir);
  if (ck.format !== 'hf')
    throw new KimiVLError(
      'CheckpointError',
      `${srcDir} is already converted; convert the Hugging Face checkpoint instead`,
    );
  await mkdir(outDir, { recursive: true });
  if ((await nodeFiles(outDir).exists(MANIFEST_FILE)) && !opts.force)
    throw new KimiVLError(
      'CheckpointError',
      `${outDir} already holds a converted checkpoint; pass --force to replace it`,
    );

  const plan = planAssembly(ck.config, ck.source, assembleOptionsFor(opts.quant));
  const shardPlans = planShards(plan, opts.shardBytes ?? DEFAULT_SHARD_BYTES);
  const bytesTotal = shardPlans.reduce((a, s) => a + s.entries.reduce((x, e) => x + e.bytes, 0), 0);
  const tensors: ManifestTensor[] = [];
  const shards: ManifestShard[] = [];
  const t0 = performance.now();
  let bytesDone = 0;
  let index = 0;
  for (const sp of shardPlans) {
    const { header, offsets, fileSize } = encodeSafetensorsHeader(sp.entries, { format: MANIFEST_FORMAT });
    const hash = createHash('sha256');
    const fh = await open(join(outDir, sp.file), 'w');
    try {
      const write = async (b: Uint8Array) => {
        hash.update(b);
        await fh.write(b);
      };
      await write(header);
      for (const [i, p] of sp.weights.entries()) {
        const w = await assembleOne(p, ck.source);
        if (w.bytes.byteLength !== sp.entries[i]!.bytes)
          throw new Error(`kimi-vl-web internal error: ${p.spec.name} size`);
        await write(w.bytes);
        tensors.push({
          name: p.spec.name,
          dtype: w.dtype,
          shape: w.shape,
          shard: sp.file,
          offset: offsets[i]!,
          bytes: w.bytes.byteLength,
        });
        bytesDone += w.bytes.byteLength;
        opts.onProgress?.({
          index: ++index,
          count: plan.length,
          name: p.spec.name,
          dtype: w.dtype,
          bytes: w.bytes.byteLength,
          bytesDone,
          bytesTotal,
          seconds: (performance.now() - t0) / 1000,
        });
      }
    } finally {
      await fh.close();
    }
    shards.push({ file: sp.file, bytes: fileSize, sha256: hash.digest('hex') });
  }

  const files: string[] = [];
  for (const f of (await readdir(srcDir)).sort()) {
    if (!isSideFile(f)) continue;
    await writeFile(join(outDir, f), await readFile(join(srcDir, f)));
    files.push(f);
  }
  const manifest: Manifest = {
    format: MANIFEST_FORMAT,
    version: MANIFEST_VERSION,
    quant: opts.quant,
    quantFormat: 'kvq1',
    config: JSON.parse(await readFile(join(srcDir, CONFIG_FILE), 'utf8')),
    preprocessor: files.includes(PREPROCESSOR_FILE)
      ? JSON.parse(await readFile(join(srcDir, PREPROCESSOR_FILE), 'utf8'))
      : null,
    files,
    tensors,
    shards,
  };
  const tmp = join(outDir, `${MANIFEST_FILE}.partial`);
  await writeFile(tmp, `${JSON.stringify(manifest, null, 1)}\n`);
  await rename(tmp, join(outDir, MANIFEST_FILE));
  return manifest;
}
