// The pipelined decode loop (id kept on the GPU, read back one step late) against the plain loop, on the
// WebGPU backend with the golden tiny-a model: the same tokens, stream, finish reason, progress and KV
// cache (positions and remembered ids) for a budget end, a stop id, a cancel (as a stop string ends a
// run), forced ids, the context budget, seeded top-k/top-p sampling and a follow-up turn; a step fed from
// the GPU id gives bit-identical logits to the step fed from the host; and each pipelined token costs one
// submit and one readback, as the counting backend says it does.
import { describe, expect, test } from 'vitest';
import { server } from 'vitest/browser';
import { browserGoldenIO as io } from '../golden/browser_io.ts';
import { joinPath } from '../golden/case.ts';
import { loadGoldenModel, readCase } from '../golden/reader.ts';
import { testRuntime } from '../gpu/testing.ts';
import { createGpuKernels } from '../kernels/gpu_kernels.ts';
import { KimiVLModel } from '../model/kimi_vl.ts';
import type { KvCache } from '../model/kv_cache.ts';
import { countDecode } from './decode_counts.ts';
import { type GenerateRequest, type GenerateResult, generate } from './generate.ts';
import { type GenerateOptions, resolveGenerateOptions } from './params.ts';
import { TimingRecorder } from './timings.ts';

const root = joinPath(server.config.root, '../shared/golden');
const golden = await readCase(io, joinPath(root, 'cases/a-text-only'));
const rt = await testRuntime();
const k = createGpuKernels(rt);
const { config: cfg, host } = await loadGoldenModel(io, golden.modelDir);
const model = KimiVLModel.load(k, cfg, host);
const prompt = golden.inputIds;

interface Run {
  result: GenerateResult;
  streamed: Array<[number, boolean]>;
  steps: number;
  pos: number;
  tokens: (number | null)[];
}

type Over = Partial<GenerateRequest> & { opts?: GenerateOptions; budget?: number };

/** One request on a fresh cache, plain or pipelined, with everything a caller can observe. */
async function run(pipelined: boolean, over: Over = {}, cache?: KvCache, ids = prompt): Promise<Run> {
  const own = cache ?? model.newCache(k, over.budget ?? 64);
  const streamed: Array<[number, boolean]> = [];
  const progress = { tokens: [] as number[], steps: 0 };
  const { opts, budget: _b, ...rest } = over;
  const result = await generate(k, model, own, {
    ids,
    features: null,
    options: resolveGenerateOptions({ temperature: 0, maxTokens: 8, seed: 1, ...opts }, false),
    stopIds: [],
    isCancelled: () => false,
    onToken: (id, forced) => void streamed.push([id, forced]),
    timings: new TimingRecorder(),
    progress,
    pipelined,
    ...rest,
  });
  const out = { result, streamed, steps: progress.steps, pos: own.pos, tokens: [...own.tokens] };
  if (!cache) own.release(k);
  return out;
}

async function expectSame(over: () => Over): Promise<Run> {
  const plain = await run(false, over());
  const piped = await run(true, over());
  expect(piped).toEqual(plain);
  return plain;
}

describe('pipelined decode (GPU id, one-step-late readback) equals the plain loop', () => {
  test('greedy to the token budget: the golden tokens', async () => {
    const r = await expectSame(() => ({}));
    expect(r.result.tokens).toEqual(golden.expected.newTokens.slice(0, 8));
    expect(r.result.finishReason).toBe('length');
    expect(r.pos).toBe(prompt.length + 7); // the last token is never fed (nor kept speculatively)
  });

  test('a stop id (EOS) ends it; the speculative step after it is discarded', async () => {
    const stop = golden.expected.newTokens[3]!;
    const r = await expectSame(() => ({ stopIds: [stop] }));
    expect(r.result.finishReason).toBe('stop');
    expect(r.result.tokens).toEqual(golden.expected.newTokens.slice(0, 3));
  });

  test('a cancel seen after a token (how a stop string ends the loop) drops nothing already streamed', async () => {
    const over = () => {
      let n = 0;
      return { isCancelled: () => n >= 3, onToken: () => void n++ };
    };
    const plain = await run(false, over());
    const piped = await run(true, over());
    expect(piped.result).toEqual(plain.result);
    expect(piped.pos).toBe(plain.pos);
    expect(piped.tokens).toEqual(plain.tokens);
    expect(plain.result.finishReason).toBe('abort');
    expect(plain.result.tokens).toHaveLength(3);
  });

  test('forced ids (inject) after a token: the speculative step is re-fed from the host', async () => {
    const over = () => ({
      inject: (gen: readonly number[]) => (gen.length === 2 ? [7, 9] : null),
      opts: { maxTokens: 9 },
    });
    const r = await expectSame(over);
    expect(r.streamed.filter(([, f]) => f).map(([id]) => id)).toEqual([7, 9]);
  });

  test('the context budget ends it', async () => {
    const r = await expectSame(() => ({ budget: prompt.length + 3, opts: { maxTokens: 50 } }));
    expect(r.result.finishReason).toBe('length');
    expect(r.pos).toBe(prompt.length + 3);
  });

  test('seeded temperature + top-k + top-p sampling gives the same tokens', async () => {
    for (const opts of [
      { temperature: 0.9, topK: 20, topP: 0.9, seed: 7, maxTokens: 10 },
      { temperature: 1.3, seed: 123, maxTokens: 10 },
    ])
      await expectSame(() => ({ opts }));
  });

  test('a follow-up turn reuses the pipelined run’s cache exactly as the plain one’s', async () => {
    const follow = async (pipelined: boolean) => {
      const cache = model.newCache(k, 96);
      const first = await run(pipelined, {}, cache);
      const ids = [...prompt, ...first.result.tokens, ...prompt.slice(0, 5)];
      const second = await run(pipelined, {}, cache, ids);
      cache.release(k);
      return { first, second };
    };
    const plain = await follow(false);
    const piped = await follow(true);
    expect(piped).toEqual(plain);
    expect(plain.second.result.cachedPromptTokens).toBe(prompt.length + 7);
  });

  test('a step fed the GPU-held id gives bit-identical logits to the step fed from the host', async () => {
    const cache = model.newCache(k, 64);
    const last = model.prefill(k, prompt, null, cache, true); // [1, V]
    const idT = k.sample(last, null, { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, seed: 0 }, 0);
    const [id] = await k.readU32(idT);
    const pos = cache.pos;
    const onDevice = await k.read(model.stepOnDevice(k, idT, cache));
    expect(cache.tokens[pos]).toBeNull(); // unknown until read back
    cache.commit(pos, []);
    const fromHost = await k.read(model.step(k, [id!], cache));
    expect(cache.tokens[pos]).toBe(id);
    expect(Array.from(onDevice)).toEqual(Array.from(fromHost));
    k.release(last, idT);
    cache.release(k);
  });

  test('per token: one submit, one readback; the counting backend reports what the GPU did', async () => {
    const perToken = async (pipelined: boolean) => {
      const rows: Array<{ dispatches: number; submits: number; readbacks: number }> = [];
      let last: typeof rt.stats | null = null;
      await run(pipelined, {
        opts: { maxTokens: 6 },
        onToken: () => {
          const now = { ...rt.stats };
          if (last)
            rows.push({
              dispatches: now.dispatches - last.dispatches,
              submits: now.submits - last.submits,
              readbacks: now.readbacks - last.readbacks,
            });
          last = now;
        },
      });
      return rows;
    };
    const piped = await perToken(true);
    const plain = await perToken(false);
    const mid = piped[1]!;
    expect(mid.submits).toBe(1);
    expect(mid.readbacks).toBe(1);
    expect(plain[1]!.submits).toBe(2); // the plain loop uploads the id: a submit of its own
    expect(mid.dispatches).toBe(plain[1]!.dispatches);
    const counted = await countDecode(cfg, {
      quant: 'bf16',
      context: prompt.length,
      tokens: 6,
      features: rt.features,
      isFallbackAdapter: rt.info.isFallbackAdapter,
    });
    expect(counted.steady).toMatchObject(mid);
  });
});
