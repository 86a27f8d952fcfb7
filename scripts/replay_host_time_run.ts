// What scripts/replay_host_time.ts runs (through Vite's SSR loader, so the kernels' `?raw` WGSL imports
// resolve): host (JavaScript) time per decode token with the recorded decode step replayed vs walked, on
// the counting backend (src/gpu/counting.ts: the real runtime, kernels and model code over a device that
// executes nothing). Per token it times what the pipelined loop does before the GPU could start:
// stepOnDevice + sample (both replayable, seeded top-k/top-p) + the submit.
import { readFileSync } from 'node:fs';
import { type KimiVLConfig, parseConfig } from '../src/config/config.ts';
import { shapeOnlyWeights } from '../src/generate/decode_counts.ts';
import { GOLDEN_ROOT } from '../src/golden/location.ts';
import { nodeGoldenIO } from '../src/golden/node_io.ts';
import { loadGoldenModel, readCase } from '../src/golden/reader.ts';
import { createCountingRuntime } from '../src/gpu/counting.ts';
import { createGpuKernels } from '../src/kernels/gpu_kernels.ts';
import { KimiVLModel } from '../src/model/kimi_vl.ts';
import type { Tensor } from '../src/tensor/types.ts';

const sampling = { temperature: 0.8, topK: 40, topP: 0.9, repetitionPenalty: 1, seed: 1 };
const WARM = 10;

function measure(cfg: KimiVLConfig, context: number, tokens: number, replay: boolean) {
  const { rt } = createCountingRuntime();
  rt.replay = replay;
  const k = createGpuKernels(rt);
  const model = KimiVLModel.load(k, cfg, shapeOnlyWeights(cfg, 'q4'));
  const cache = model.newCache(k, context + tokens + 1);
  cache.commit(0, new Array<number>(context).fill(0));
  const sample = (logits: Tensor, step: number) =>
    k.replayable!('sample', [logits, ...Object.values(sampling)], { step }, () =>
      k.sample(logits, null, sampling, step),
    ).out;
  let id = sample(model.prefill(k, [0], null, cache, true), 0);
  let t0 = 0;
  let first = { ...rt.stats };
  for (let s = 0; s < tokens; s++) {
    if (s === WARM) {
      t0 = performance.now();
      first = { ...rt.stats };
    }
    const logits = model.stepOnDevice(k, id, cache, { replay });
    const next = sample(logits, s + 1);
    k.flush();
    k.release(logits, id);
    id = next;
  }
  const n = tokens - WARM;
  const out = {
    msPerToken: (performance.now() - t0) / n,
    dispatches: (rt.stats.dispatches - first.dispatches) / n,
    replayed: (rt.stats.replayed - first.replayed) / n,
  };
  rt.destroy();
  return out;
}

/** Prints ms per token, replay off and on, for tiny-a (`tiny`) or the real config. */
export async function main(tiny: boolean, context: number, tokens: number): Promise<void> {
  const cfg = tiny
    ? (
        await loadGoldenModel(
          nodeGoldenIO,
          (
            await readCase(nodeGoldenIO, `${GOLDEN_ROOT}/cases/a-text-only`)
          ).modelDir,
        )
      ).config
    : parseConfig(JSON.parse(readFileSync('configs/Kimi-VL-A3B-Instruct.config.json', 'utf8')));
  for (let round = 0; round < 2; round++) {
    // the first round warms the JIT
    for (const replay of [false, true]) {
      const r = measure(cfg, context, tokens, replay);
      if (round === 1)
        console.log(
          `${cfg.text.numLayers} layers, context ${context}, replay ${replay ? 'on ' : 'off'}: ` +
            `${r.msPerToken.toFixed(3)} ms/token host, ${r.dispatches} dispatches/token (${r.replayed} replayed)`,
        );
    }
  }
}
