// REAL-SIZE TEST (slow on SwiftShader): one dense and one MoE DeepSeek-V3 layer at the real Kimi-VL sizes
// (hidden 2048, 16 heads, kv_lora_rank 512, rope 64, nope 128, v 128, q_proj without LoRA, dense 11264,
// 64 experts top-6 of width 1408, 2 shared experts) from the real config.json with 2 layers and a small
// vocabulary, random bf16 weights: prefill of 17 tokens then 3 decode steps, WebGPU vs the reference
// backend, NMSE ≤ 5e-4 (matmul/attention class) on every logits row.
// The GPU work is recorded and submitted first so SwiftShader runs while the reference computes. The
// reference widens routed experts one at a time (all 64 as f32 would need 2.2 GB in the page).
import { describe, expect, test } from 'vitest';
import { server } from 'vitest/browser';
import { type KimiVLConfig, parseConfig } from '../config/config.ts';
import { testRuntime } from '../gpu/testing.ts';
import { createGpuCoreOps } from '../kernels/core/gpu_core_ops.ts';
import { createRefCoreOps } from '../kernels/core/ref_core_ops.ts';
import { createGpuLanguageOps } from '../kernels/language/gpu_language_ops.ts';
import { moeExpertsRef } from '../kernels/language/moe_experts.ref.ts';
import { createRefLanguageOps, normedRows } from '../kernels/language/ref_language_ops.ts';
import { asRef, RefTensor } from '../kernels/ref_tensor.ts';
import { compare, nmseBelow } from '../kernels/testing.ts';
import type { Kernels } from '../kernels/types.ts';
import { widenToF32 } from '../tensor/half.ts';
import type { HostWeight, Tensor } from '../tensor/types.ts';
import { mulberry32 } from '../testing/random.ts';
import { KvCache } from './kv_cache.ts';
import { LanguageModel, loadLanguageWeights } from './language.ts';

const VOCAB = 512;
const PROMPT = 17;
const DECODE = [7, 300, 41];

async function realConfig(): Promise<KimiVLConfig> {
  const path = `${server.config.root}/../shared/spec/Kimi-VL-A3B-Instruct.config.json`;
  const json = await (await fetch(`/@fs${path}`)).json();
  Object.assign(json.text_config, {
    num_hidden_layers: 2,
    vocab_size: VOCAB,
    bos_token_id: 500,
    eos_token_id: 501,
    pad_token_id: 511,
  });
  Object.assign(json, { vocab_size: VOCAB, media_placeholder_token_id: 505 });
  return parseConfig(json);
}

/**
 * Seeded bf16 weights, uniform in offset ± scale (bf16 = the top half of the f32), written straight as
 * bf16: the stacked experts as f32 would need 2.2 GB in the page.
 */
function bf16Random(shape: number[], seed: number, scale: number, offset = 0): HostWeight {
  const n = shape.reduce((a, b) => a * b, 1);
  const bits = new Uint16Array(n);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  const rand = mulberry32(seed);
  for (let i = 0; i < n; i++) {
    f[0] = offset + (rand() * 2 - 1) * scale;
    bits[i] = u[0]! >>> 16;
  }
  return { dtype: 'bf16', shape, bytes: new Uint8Array(bits.buffer) };
}

function randomLanguageWeights(cfg: KimiVLConfig): Map<string, HostWeight> {
  const t = cfg.text;
  const D = t.hiddenSize;
  const H = t.numHeads;
  const host = new Map<string, HostWeight>();
  let seed = 1;
  const lin = (name: string, shape: number[]) =>
    host.set(name, bf16Random(shape, seed++, Math.sqrt(3 / shape[shape.length - 1]!)));
  const norm = (name: string, d: number) => host.set(name, bf16Random([d], seed++, 0.1, 1));
  host.set('lm.embed', bf16Random([VOCAB, D], seed++, 1));
  lin('lm.head', [VOCAB, D]);
  norm('lm.norm', D);
  for (let i = 0; i < t.numLayers; i++) {
    const p = `lm.layers.${i}.`;
    norm(`${p}attn_norm`, D);
    norm(`${p}ffn_norm`, D);
    lin(`${p}attn.q`, [H * (t.qkNopeHeadDim + t.qkRopeHeadDim), D]);
    lin(`${p}attn.kv_a`, [t.kvLoraRank + t.qkRopeHeadDim, D]);
    norm(`${p}attn.kv_a_norm`, t.kvLoraRank);
    lin(`${p}attn.kv_b`, [H * (t.qkNopeHeadDim + t.vHeadDim), t.kvLoraRank]);
    lin(`${p}attn.o`, [D, H * t.vHeadDim]);
    if (!cfg.isMoeLayer(i)) {
      lin(`${p}mlp.gate`, [t.intermediateSize, D]);
      lin(`${p}mlp.up`, [t.intermediateSize, D]);
      lin(`${p}mlp.down`, [D, t.intermediateSize]);
      continue;
    }
    const E = t.nRoutedExperts;
    const I = t.moeIntermediateSize;
    const S = I * t.nSharedExperts;
    host.set(`${p}moe.router`, bf16Random([E, D], seed++, 3 / Math.sqrt(D)));
    const bias = bf16Random([E], seed++, 0.05);
    host.set(`${p}moe.router_bias`, {
      dtype: 'f32',
      shape: [E],
      bytes: new Uint8Array(widenToF32('bf16', bias.bytes).buffer),
    });
    lin(`${p}moe.experts_gate`, [E, I, D]);
    lin(`${p}moe.experts_up`, [E, I, D]);
    lin(`${p}moe.experts_down`, [E, D, I]);
    lin(`${p}moe.shared_gate`, [S, D]);
    lin(`${p}moe.shared_up`, [S, D]);
    lin(`${p}moe.shared_down`, [D, S]);
  }
  return host;
}

/** Reference kernels whose stacked expert weights stay bf16 and are widened one expert at a time. */
function lazyExpertRefKernels(): Kernels {
  const base = { ...createRefCoreOps(), ...createRefLanguageOps() } as unknown as Kernels;
  const lazy = new WeakMap<Tensor, HostWeight>();
  const expert = (t: Tensor, e: number) => {
    const w = lazy.get(t)!;
    const per = w.shape[1]! * w.shape[2]! * 2;
    return widenToF32('bf16', w.bytes.subarray(e * per, (e + 1) * per));
  };
  return {
    ...base,
    uploadWeight(w) {
      if (w.shape.length !== 3) return base.uploadWeight(w);
      const t = new RefTensor([...w.shape], w.dtype, new Float32Array(0));
      lazy.set(t, w);
      return t;
    },
    moeExperts(x, ids, weights, gate, up, down, addend, norm) {
      const [, I, D] = gate.shape as [number, number, number];
      const T = asRef(x).f32.length / D;
      const xv = normedRows(x, T, D, norm); // the fused FFN norm (decode) as the reference computes it
      const idv = asRef(ids).u32;
      const wv = asRef(weights).f32;
      const A = ids.shape[1]!;
      const acc = new Float64Array(T * D);
      for (const e of new Set(idv)) {
        const [g, u, d] = [expert(gate, e), expert(up, e), expert(down, e)];
        for (let s = 0; s < T * A; s++) {
          if (idv[s] !== e) continue;
          const t = Math.floor(s / A);
          const y = moeExpertsRef(
            xv.subarray(t * D, (t + 1) * D),
            Uint32Array.of(0),
            Float32Array.of(wv[s]!),
            g,
            u,
            d,
            1,
            1,
            D,
            I,
          );
          for (let i = 0; i < D; i++) acc[t * D + i]! += y[i]!;
        }
      }
      const add = addend && asRef(addend).f32;
      if (add) for (let i = 0; i < T * D; i++) acc[i]! += add[i]!;
      return new RefTensor([T, D], 'f32', Float32Array.from(acc));
    },
  };
}

function run(k: Kernels, cfg: KimiVLConfig, host: Map<string, HostWeight>, ids: number[]) {
  const lm = new LanguageModel(cfg, loadLanguageWeights(k, host, cfg));
  const cache = KvCache.create(k, cfg.text, 32);
  const out = [lm.forward(k, lm.embed(k, ids), 0, cache)]; // [17, V]
  DECODE.forEach((id, i) => {
    out.push(lm.forward(k, lm.embed(k, [id]), PROMPT + i, cache, { lastRowOnly: true })); // [1, V]
  });
  k.flush();
  return out;
}

describe('REAL SIZES: dense + MoE DeepSeek-V3 layers, WebGPU vs reference (slow)', () => {
  test('prefill 17 tokens + 3 decode steps, bf16 weights, 64 experts top-6', async () => {
    const cfg = await realConfig();
    expect(cfg.isMoeLayer(0)).toBe(false);
    expect(cfg.isMoeLayer(1)).toBe(true);
    const host = randomLanguageWeights(cfg);
    const ids = Array.from({ length: PROMPT }, (_, i) => (i * 97 + 13) % 500);
    const rt = await testRuntime();
    const gk = { ...createGpuCoreOps(rt), ...createGpuLanguageOps(rt) } as unknown as Kernels;
    const t0 = performance.now();
    const gpuOut = run(gk, cfg, host, ids);
    const refOut = run(lazyExpertRefKernels(), cfg, host, ids);
    const t1 = performance.now();
    await gk.read(gpuOut[gpuOut.length - 1]!);
    console.log(
      `real dims: reference ${((t1 - t0) / 1000).toFixed(0)} s, GPU done after ${((performance.now() - t0) / 1000).toFixed(0)} s`,
    );
    for (let i = 0; i < gpuOut.length; i++) {
      const got = await gk.read(gpuOut[i]!);
      const want = asRef(refOut[i]!).f32;
      const step = i === 0 ? 'prefill' : `decode ${i}`;
      const r = compare(got, want, nmseBelow(5e-4));
      console.log(`real dims: ${step} logits NMSE ${r.value.toExponential(2)}`);
      expect(r.pass, `real dims ${step} logits: ${r.text}`).toBe(true);
    }
  }, 1_500_000);
});
