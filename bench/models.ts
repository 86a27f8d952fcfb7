// The two models the end-to-end bench runs (browser side):
//   - a tiny checkpoint from disk (golden models/tiny-a), loaded through src/weights like the app does;
//   - a real-size layer stack built in code: Kimi-VL-A3B's own config with one MoonViT block at 1152,
//     the projector, one dense and one MoE LM layer at 2048, random weights in the memory plan's dtypes.
//     The vocabulary is cut to 4096 (the 163840-row lm_head is timed on its own in the kernel table).

import { type KimiVLConfig, parseConfig } from '../src/config/config.ts';
import { KimiVLError } from '../src/errors.ts';
import type { HostWeight } from '../src/tensor/types.ts';
import { assembleWeights } from '../src/weights/assemble.ts';
import { type OpenedCheckpoint, openCheckpoint } from '../src/weights/checkpoint.ts';
import { type PlanQuant, planMemory } from '../src/weights/memory_plan.ts';
import { urlFiles } from '../src/weights/url_files.ts';
import { syntheticWeight } from './synthetic.ts';

export interface LoadedModel {
  cfg: KimiVLConfig;
  host: Map<string, HostWeight>;
}

export const STACK_VOCAB = 4096;

/** Every engine weight of an opened checkpoint at `quant`, assembled as the app loads them. */
export async function checkpointModel(
  ck: OpenedCheckpoint,
  quant: 'none' | 'q8' | 'q4',
): Promise<LoadedModel> {
  const host = new Map<string, HostWeight>();
  for await (const [n, w] of assembleWeights(ck.config, ck.source, { quant })) host.set(n, w);
  return { cfg: ck.config, host };
}

/** The checkpoint served at `baseUrl` (browser side). */
export async function loadCheckpointModel(
  baseUrl: string,
  quant: 'none' | 'q8' | 'q4',
): Promise<LoadedModel> {
  return checkpointModel(
    await openCheckpoint(urlFiles(baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`)),
    quant,
  );
}

/** Kimi-VL-A3B's config cut to 1 vision block + 2 LM layers (layer 0 dense, layer 1 MoE). */
export function stackConfig(fullConfigJson: Record<string, unknown>): KimiVLConfig {
  const raw = structuredClone(fullConfigJson) as {
    vision_config: Record<string, unknown>;
    text_config: Record<string, unknown>;
    [k: string]: unknown;
  };
  raw.vision_config.num_hidden_layers = 1;
  raw.text_config.num_hidden_layers = 2;
  raw.text_config.vocab_size = STACK_VOCAB;
  raw.vocab_size = STACK_VOCAB;
  raw.media_placeholder_token_id = STACK_VOCAB - 1;
  for (const key of ['bos_token_id', 'eos_token_id', 'pad_token_id']) raw.text_config[key] = STACK_VOCAB - 2;
  const cfg = parseConfig(raw, 'Kimi-VL-A3B (bench stack)');
  if (cfg.isMoeLayer(0) || !cfg.isMoeLayer(1))
    throw new KimiVLError(
      'ConfigError',
      'bench stack expects layer 0 dense and layer 1 MoE (first_k_dense_replace = 1)',
    );
  return cfg;
}

/** Random weights for every tensor of `cfg`, in the dtypes `kimi-vl convert --quant` would write. */
export function syntheticModel(cfg: KimiVLConfig, quant: PlanQuant): LoadedModel {
  const host = new Map<string, HostWeight>();
  planMemory(cfg, { quant, context: 1 }).tensors.forEach((t, i) => {
    host.set(t.name, syntheticWeight(t.dtype, t.shape, i + 1));
  });
  return { cfg, host };
}
