// Chunked prefill on the CPU reference (tiny-a golden model): slices give the one-shot logits and the
// golden greedy tokens, a cancel between slices leaves the KV cache holding exactly the slices run (a
// following turn reuses them), and a run resumed from its progress goes on with the same tokens.
import { beforeAll, describe, expect, it } from 'vitest';
import { GOLDEN_ROOT } from '../golden/location.ts';
import { nodeGoldenIO as io } from '../golden/node_io.ts';
import { loadGoldenModel, readCase } from '../golden/reader.ts';
import { createRefKernels } from '../kernels/ref_kernels.ts';
import { KimiVLModel } from '../model/kimi_vl.ts';
import { type GenerateProgress, type GenerateRequest, generate } from './generate.ts';
import { resolveGenerateOptions } from './params.ts';
import { TimingRecorder } from './timings.ts';

const k = createRefKernels();
let model: KimiVLModel;
let prompt: number[] = [];
let golden: number[] = [];

beforeAll(async () => {
  const c = await readCase(io, `${GOLDEN_ROOT}/cases/a-text-only`);
  prompt = c.inputIds;
  golden = c.expected.newTokens;
  const m = await loadGoldenModel(io, c.modelDir);
  model = KimiVLModel.load(k, m.config, m.host);
});

function request(over: Partial<GenerateRequest> = {}): GenerateRequest {
  return {
    ids: prompt,
    features: null,
    options: resolveGenerateOptions({ temperature: 0, maxTokens: golden.length, seed: 1 }, false),
    stopIds: [],
    isCancelled: () => false,
    onToken: () => {},
    timings: new TimingRecorder(),
    ...over,
  };
}

/** Greatest |a−b| / max|b| over all logits of the steps. */
function maxRel(a: Float32Array[], b: Float32Array[]): number {
  let worst = 0;
  for (let s = 0; s < b.length; s++) {
    const scale = Math.max(...b[s]!.map(Math.abs));
    for (let i = 0; i < b[s]!.length; i++) worst = Math.max(worst, Math.abs(a[s]![i]! - b[s]![i]!) / scale);
  }
  return worst;
}

describe('chunked prefill (reference kernels, tiny-a)', () => {
  it('slices of 1, 3 and 5 rows give the one-shot logits and the golden greedy tokens', async () => {
    expect(prompt.length).toBeGreaterThan(5); // several slices per prompt
    const runWith = async (chunk: number) => {
      const cache = model.newCache(k, 64);
      const logits: Float32Array[] = [];
      const r = await generate(k, model, cache, {
        ...request({ prefillChunk: chunk }),
        onLogits: async (t) => void logits.push(await k.read(t)),
      });
      const pos = cache.pos;
      cache.release(k);
      return { tokens: r.tokens, logits, pos };
    };
    const oneShot = await runWith(10_000);
    expect(oneShot.tokens).toEqual(golden);
    for (const chunk of [1, 3, 5]) {
      const sliced = await runWith(chunk);
      expect(sliced.tokens, `chunk ${chunk}`).toEqual(golden);
      expect(sliced.pos).toBe(oneShot.pos);
      // Same math in another order of rows per pass: f64-accumulated reference, rounding-level difference.
      expect(maxRel(sliced.logits, oneShot.logits), `chunk ${chunk}`).toBeLessThan(1e-5);
    }
  });

  it('a cancel between slices stops the prefill; the cache keeps the slices and the next turn reuses them', async () => {
    const cache = model.newCache(k, 64);
    let slicesSeen = 0;
    const reads = k.read.bind(k);
    // Count the slice syncs (prefill reads the last row of each non-final slice) and cancel after two.
    const counting = {
      ...k,
      read: (t: Parameters<typeof k.read>[0]) => {
        slicesSeen++;
        return reads(t);
      },
    };
    const aborted = await generate(counting, model, cache, {
      ...request({ prefillChunk: 2 }),
      isCancelled: () => slicesSeen >= 2,
    });
    expect(aborted.finishReason).toBe('abort');
    expect(aborted.tokens).toEqual([]);
    expect(cache.pos).toBe(4); // two slices of two rows, nothing more
    expect(cache.tokens).toEqual(prompt.slice(0, 4));
    const next = await generate(k, model, cache, request({ prefillChunk: 2 }));
    expect(next.cachedPromptTokens).toBe(4);
    expect(next.tokens).toEqual(golden);
    cache.release(k);
  });

  it('a run interrupted mid-answer resumes from its progress with the same greedy tokens', async () => {
    const cache = model.newCache(k, 64);
    const progress: GenerateProgress = { tokens: [], steps: 0 };
    const streamed: number[] = [];
    await expect(
      generate(k, model, cache, {
        ...request({ progress }),
        onToken: (id) => {
          streamed.push(id);
          if (streamed.length === 3) throw new Error('interrupted');
        },
      }),
    ).rejects.toThrow('interrupted');
    expect(progress).toEqual({ tokens: golden.slice(0, 3), steps: 3 });
    // As after a device loss: a fresh cache, the same request, resumed.
    const fresh = model.newCache(k, 64);
    const rest: number[] = [];
    const r = await generate(k, model, fresh, {
      ...request({ resume: progress }),
      onToken: (id) => void rest.push(id),
    });
    expect(r.tokens).toEqual(golden);
    expect(rest).toEqual(golden.slice(3));
    cache.release(k);
    fresh.release(k);
  });
});
