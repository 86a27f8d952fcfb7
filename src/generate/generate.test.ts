// The generation loop on the CPU reference against the golden greedy tokens, plus its stop rules,
// cancellation, injection and KV-cache prefix reuse.
import { beforeAll, describe, expect, it } from 'vitest';
import { GOLDEN_ROOT } from '../golden/location.ts';
import { nodeGoldenIO as io } from '../golden/node_io.ts';
import { loadGoldenModel, readCase } from '../golden/reader.ts';
import { createRefKernels } from '../kernels/ref_kernels.ts';
import { KimiVLModel } from '../model/kimi_vl.ts';
import type { KvCache } from '../model/kv_cache.ts';
import { type GenerateRequest, generate } from './generate.ts';
import { resolveGenerateOptions } from './params.ts';
import { TimingRecorder } from './timings.ts';

const k = createRefKernels();
let model: KimiVLModel;
/** a-text-only: its prompt and expected greedy tokens. */
const golden = { input_ids: [] as number[], expected: { new_tokens: [] as number[] } };

beforeAll(async () => {
  const c = await readCase(io, `${GOLDEN_ROOT}/cases/a-text-only`);
  golden.input_ids = c.inputIds;
  golden.expected.new_tokens = c.expected.newTokens;
  const m = await loadGoldenModel(io, c.modelDir);
  model = KimiVLModel.load(k, m.config, m.host);
});

function request(ids: number[], over: Partial<GenerateRequest> = {}, maxTokens = 8): GenerateRequest {
  const seen: number[] = [];
  return {
    ids,
    features: null,
    options: resolveGenerateOptions({ temperature: 0, maxTokens, seed: 1 }, false),
    stopIds: [],
    isCancelled: () => false,
    onToken: (id) => {
      seen.push(id);
    },
    timings: new TimingRecorder(),
    ...over,
  };
}

/** generate() on the golden prompt with request overrides. */
function run(cache: KvCache, over: Partial<GenerateRequest> = {}, maxTokens = 8) {
  return generate(k, model, cache, request(golden.input_ids, over, maxTokens));
}

describe('generate (reference kernels, tiny-a)', () => {
  it('greedy tokens equal the golden a-text-only new_tokens', async () => {
    const cache = model.newCache(k, 64);
    const streamed: number[] = [];
    const r = await run(cache, { onToken: (id) => void streamed.push(id) });
    expect(r.tokens).toEqual(golden.expected.new_tokens);
    expect(streamed).toEqual(golden.expected.new_tokens);
    expect(r.finishReason).toBe('length');
    expect(r.cachedPromptTokens).toBe(0);
    // The last sampled token is not fed: the cache holds the prompt and the first 7 generated ids.
    expect(cache.pos).toBe(golden.input_ids.length + 7);
    cache.release(k);
  });

  it('stops on a stop id without emitting it', async () => {
    const cache = model.newCache(k, 64);
    const stop = golden.expected.new_tokens[3]!;
    const r = await run(cache, { stopIds: [stop] });
    expect(r.finishReason).toBe('stop');
    expect(r.tokens).toEqual(golden.expected.new_tokens.slice(0, 3));
    cache.release(k);
  });

  it('cancellation lands within one token', async () => {
    const cache = model.newCache(k, 64);
    let n = 0;
    const r = await run(cache, { onToken: () => void n++, isCancelled: () => n >= 2 });
    expect(r.finishReason).toBe('abort');
    expect(r.tokens.length).toBe(2);
    cache.release(k);
  });

  it('a follow-up turn prefills only new tokens and matches a fresh cache', async () => {
    const cache = model.newCache(k, 96);
    const first = await run(cache, {}, 4);
    const follow = [...golden.input_ids, ...first.tokens, 482, 483, 17, 29, 482, 484];
    const reused = await generate(k, model, cache, request(follow));
    expect(reused.cachedPromptTokens).toBe(golden.input_ids.length + 3);
    const fresh = model.newCache(k, 96);
    const again = await generate(k, model, fresh, request(follow));
    expect(again.cachedPromptTokens).toBe(0);
    expect(reused.tokens).toEqual(again.tokens);
    cache.release(k);
    fresh.release(k);
  });

  it('injected ids are fed and streamed as forced', async () => {
    const cache = model.newCache(k, 64);
    const forced: number[] = [];
    const r = await run(cache, {
      inject: (g) => (g.length === 1 ? [7, 9] : null),
      onToken: (id, f) => void (f && forced.push(id)),
    });
    expect(forced).toEqual([7, 9]);
    expect(r.tokens.slice(0, 3)).toEqual([golden.expected.new_tokens[0], 7, 9]);
    expect(r.tokens.length).toBe(8);
    cache.release(k);
  });

  it('a fed id equal to <|media_pad|> is text (a decode step never splices image rows)', async () => {
    const cache = model.newCache(k, 64);
    const pad = model.cfg.mediaPlaceholderTokenId;
    const r = await run(cache, { inject: (g) => (g.length === 1 ? [pad] : null) }, 4);
    expect(r.tokens.slice(0, 2)).toEqual([golden.expected.new_tokens[0], pad]);
    expect(r.tokens.length).toBe(4);
    // generated rows are remembered as text ids; only prompt placeholders are image rows (null)
    expect(cache.tokens.slice(golden.input_ids.length, golden.input_ids.length + 2)).toEqual(
      r.tokens.slice(0, 2),
    );
    expect(model.cacheKey([5, pad, 7])).toEqual([5, null, 7]);
    cache.release(k);
  });

  it('a prompt larger than the context budget is a ContextOverflowError', async () => {
    const cache = model.newCache(k, 16);
    await expect(run(cache)).rejects.toMatchObject({
      name: 'ContextOverflowError',
    });
    cache.release(k);
  });

  it('stops with "length" when the context budget fills', async () => {
    const cache = model.newCache(k, golden.input_ids.length + 2);
    const r = await run(cache);
    expect(r.finishReason).toBe('length');
    expect(r.tokens).toEqual(golden.expected.new_tokens.slice(0, 3));
    cache.release(k);
  });
});
