// Decode reads exactly the active weights: an instrumented decode step (rt.stats.weightBytes, which every
// kernel reports for the weight bytes it reads) equals the active parameters' bytes — selected and shared
// experts, attention, norms, embedding row, lm_head — computed independently from config.json, within 2%.
// Also: after warm-up a decode step creates no pipeline and no bind group (no per-token churn).
import { describe, expect, test } from 'vitest';
import { server } from 'vitest/browser';
import type { KimiVLConfig } from '../config/config.ts';
import { withRuntime } from '../gpu/testing.ts';
import { createGpuKernels } from '../kernels/gpu_kernels.ts';
import { KimiVLModel } from '../model/kimi_vl.ts';
import type { WeightDType } from '../tensor/types.ts';
import { browserGoldenIO } from './browser_io.ts';
import { joinPath } from './case.ts';
import { loadGoldenModel } from './reader.ts';

const MODELS = joinPath(server.config.root, '../shared/golden/models');

function bytesOf(dtype: WeightDType, rows: number, k: number): number {
  const nb = Math.ceil(k / 32);
  if (dtype === 'q8') return rows * nb * 34;
  if (dtype === 'q4') return rows * nb * 18;
  return rows * k * (dtype === 'f32' ? 4 : 2);
}

/** Active weight bytes of one decoded token, from the config and the dtypes the weights were loaded in. */
function activeBytesPerToken(cfg: KimiVLConfig, dtypeOf: (name: string) => WeightDType): number {
  const t = cfg.text;
  const D = t.hiddenSize;
  const lin = (name: string, n: number, k: number) => bytesOf(dtypeOf(name), n, k);
  const norm = (n: number) => n * 4; // norm scales are widened to f32 on the GPU
  const H = t.numHeads;
  const qkHead = t.qkNopeHeadDim + t.qkRopeHeadDim;
  let total = lin('lm.embed', 1, D) + norm(D) + lin('lm.head', t.vocabSize, D);
  for (let i = 0; i < t.numLayers; i++) {
    const p = `lm.layers.${i}`;
    total += 2 * norm(D);
    if (t.qLoraRank === null) total += lin(`${p}.attn.q`, H * qkHead, D);
    else
      total +=
        lin(`${p}.attn.q_a`, t.qLoraRank, D) +
        norm(t.qLoraRank) +
        lin(`${p}.attn.q_b`, H * qkHead, t.qLoraRank);
    total += lin(`${p}.attn.kv_a`, t.kvLoraRank + t.qkRopeHeadDim, D) + norm(t.kvLoraRank);
    total += lin(`${p}.attn.kv_b`, H * (t.qkNopeHeadDim + t.vHeadDim), t.kvLoraRank);
    total += lin(`${p}.attn.o`, D, H * t.vHeadDim);
    if (i < t.firstKDenseReplace) {
      total += 2 * lin(`${p}.mlp.gate`, t.intermediateSize, D) + lin(`${p}.mlp.down`, D, t.intermediateSize);
    } else {
      const I = t.moeIntermediateSize;
      const S = I * t.nSharedExperts;
      total += lin(`${p}.moe.router`, t.nRoutedExperts, D) + t.nRoutedExperts * 4; // gate + correction bias
      total +=
        t.numExpertsPerTok * (2 * lin(`${p}.moe.experts_gate`, I, D) + lin(`${p}.moe.experts_down`, D, I));
      total += 2 * lin(`${p}.moe.shared_gate`, S, D) + lin(`${p}.moe.shared_down`, D, S);
    }
  }
  return total;
}

describe('bytes of weights read per decoded token', () => {
  for (const [model, quant] of [
    ['tiny-a', 'none'],
    ['tiny-b', 'none'],
    ['tiny-b', 'q8'],
    ['tiny-a', 'q4'],
  ] as const) {
    // A fresh runtime per case, destroyed even when an expectation fails. No guard words: guarded buffers
    // are never recycled by the pool, and the warm-step check counts on reused buffers and bind groups.
    test(`${model} ${quant === 'none' ? 'bf16' : quant}`, () =>
      withRuntime(
        {},
        async (rt) => {
          const k = createGpuKernels(rt);
          const ck = await loadGoldenModel(browserGoldenIO, `${MODELS}/${model}`, { quant });
          const host = ck.host;
          const m = KimiVLModel.load(k, ck.config, host);
          const cache = m.newCache(k, 32);
          const prompt = [1, 2, 3, 4, 5];
          k.release(m.prefill(k, prompt, null, cache, true));
          const perStep: number[] = [];
          for (let i = 0; i < 3; i++) {
            await rt.sync();
            const before = { ...rt.stats, pipelines: rt.pipelines.size };
            const logits = m.step(k, [10 + i], cache);
            await k.read(logits);
            k.release(logits);
            perStep.push(rt.stats.weightBytes - before.weightBytes);
            if (i > 0) {
              // Warm: the same pipelines and bind groups serve every token.
              expect(rt.pipelines.size, 'pipelines created during a warm decode step').toBe(before.pipelines);
              expect(rt.stats.bindGroupsCreated - before.bindGroupsCreated, 'bind groups created').toBe(0);
            }
          }
          const want = activeBytesPerToken(ck.config, (n) => host.get(n)!.dtype);
          for (const got of perStep)
            expect(Math.abs(got - want) / want, `read ${got} B, active ${want} B`).toBeLessThan(0.02);
          console.log(`${model} ${quant}: ${perStep[0]} B read per token, active parameters ${want} B`);
          cache.release(k);
          m.release(k);
        },
        { guards: false },
      ));
  }
});
