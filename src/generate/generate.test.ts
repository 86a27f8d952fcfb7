// The generation loop on the CPU reference against the golden greedy tokens, plus its stop rules,
// cancellation, injection and KV-cache prefix reuse.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRefKernels } from '../kernels/ref_kernels.ts';
import { KimiVLModel } from '../model/kimi_vl.ts';
import { loadHostWeights, openCheckpointDir } from '../weights/node_source.ts';
import { type GenerateRequest, generate } from './generate.ts';
import { resolveGenerateOptions } from './params.ts';
import { TimingRecorder } from './timings.ts';

const GOLDEN = new URL('../../../shared/golden/', import.meta.url).pathname;
const golden = JSON.parse(readFileSync(`${GOLDEN}cases/a-text-only/case.json`, 'utf8')) as {
  input_ids: number[];
  expected: { new_tokens: number[] };
};
const k = createRefKernels();
let model: KimiVLModel;

beforeAll(async () => {
  const dir = `${GOLDEN}models/tiny-a`;
  const ck = await openCheckpointDir(dir);
  model = KimiVLModel.load(k, ck.config, await loadHostWeights(dir));
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

describe('generate (reference kernels, tiny-a)', () => {
  it('greedy tokens equal the golden a-text-only new_tokens', async () => {
    const cache = model.newCache(k, 64);
    const streamed: number[] = [];
    const r = await generate(
      k,
      model,
      cache,
      request(golden.input_ids, { onToken: (id) => void streamed.push(id) }),
    );
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
    const r = await generate(k, model, cache, request(golden.input_ids, { stopIds: [stop] }));
    expect(r.finishReason).toBe('stop');
    expect(r.tokens).toEqual(golden.expected.new_tokens.slice(0, 3));
    cache.release(k);
  });

  it('cancellation lands within one token', async () => {
    const cache = model.newCache(k, 64);
    let n = 0;
    const r = await generate(
      k,
      model,
      cache,
      request(golden.input_ids, { onToken: () => void n++, isCancelled: () => n >= 2 }),
    );
    expect(r.finishReason).toBe('abort');
    expect(r.tokens.length).toBe(2);
    cache.release(k);
  });

  it('a follow-up turn prefills only new tokens and matches a fresh cache', async () => {
    const cache = model.newCache(k, 96);
    const first = await generate(k, model, cache, request(golden.input_ids, {}, 4));
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
    const r = await generate(
      k,
      model,
      cache,
      request(golden.input_ids, {
        inject: (g) => (g.length === 1 ? [7, 9] : null),
        onToken: (id, f) => void (f && forced.push(id)),
      }),
    );
    expect(forced).toEqual([7, 9]);
    expect(r.tokens.slice(0, 3)).toEqual([golden.expected.new_tokens[0], 7, 9]);
    expect(r.tokens.length).toBe(8);
    cache.release(k);
  });

  it('a prompt larger than the context budget is a ContextOverflowError', async () => {
    const cache = model.newCache(k, 16);
    await expect(generate(k, model, cache, request(golden.input_ids))).rejects.toMatchObject({
      name: 'ContextOverflowError',
    });
    cache.release(k);
  });

  it('stops with "length" when the context budget fills', async () => {
    const cache = model.newCache(k, golden.input_ids.length + 2);
    const r = await generate(k, model, cache, request(golden.input_ids));
    expect(r.finishReason).toBe('length');
    expect(r.tokens).toEqual(golden.expected.new_tokens.slice(0, 3));
    cache.release(k);
  });
});
