// LanguageModel and KvCache behaviour on the REF backend with a golden tiny model: decoding through
// the cache equals recomputing the whole prefix, prefix reuse across turns, context overflow.
// (Here beside the goldens because it loads a golden checkpoint; src/model/ tests build weights in memory.)
import { describe, expect, it } from 'vitest';
import { isKimiVLError } from '../errors.ts';
import { createRefCoreOps } from '../kernels/core/ref_core_ops.ts';
import { createRefLanguageOps } from '../kernels/language/ref_language_ops.ts';
import { argmaxRef } from '../kernels/language/sample.ref.ts';
import type { Kernels } from '../kernels/types.ts';
import { KvCache } from '../model/kv_cache.ts';
import { LanguageModel, loadLanguageWeights } from '../model/language.ts';
import { joinPath } from './case.ts';
import { maxRelError } from './compare.ts';
import { GOLDEN_MODELS } from './location.ts';
import { nodeGoldenIO } from './node_io.ts';
import { loadGoldenModel } from './reader.ts';

const k = { ...createRefCoreOps(), ...createRefLanguageOps() } as unknown as Kernels;

async function tinyB() {
  const { config: cfg, host } = await loadGoldenModel(nodeGoldenIO, joinPath(GOLDEN_MODELS, 'tiny-b'));
  return { cfg, lm: new LanguageModel(cfg, loadLanguageWeights(k, host, cfg)) };
}

describe('LanguageModel with the latent KV cache', () => {
  it('cached decode gives the logits of a full recompute; lastRowOnly gives the last row', async () => {
    const { cfg, lm } = await tinyB();
    const V = cfg.text.vocabSize;
    const ids = [978, 491, 985, 644, 62, 772, 970, 971, 609];
    const cache = KvCache.create(k, cfg.text, 32);
    let logits = await k.read(lm.forward(k, lm.embed(k, ids), 0, cache, { tokens: ids, lastRowOnly: true }));
    expect(logits.length).toBe(V);
    const seq = [...ids];
    for (let i = 0; i < 4; i++) {
      const next = argmaxRef(logits);
      logits = await k.read(lm.forward(k, lm.embed(k, [next]), seq.length, cache, { tokens: [next] }));
      seq.push(next);
      const fresh = KvCache.create(k, cfg.text, 32);
      const full = await k.read(lm.forward(k, lm.embed(k, seq), 0, fresh));
      expect(maxRelError(logits, full.subarray((seq.length - 1) * V))).toBeLessThan(1e-6);
    }
    expect(cache.pos).toBe(seq.length);
    expect(cache.tokens).toEqual(seq);
  });

  it('a follow-up turn prefills only the new tokens and matches a fresh prefill', async () => {
    const { cfg, lm } = await tinyB();
    const V = cfg.text.vocabSize;
    const turn1 = [978, 491, 985, 644, 62];
    const turn2 = [...turn1, 772, 970, 971];
    const cache = KvCache.create(k, cfg.text, 16);
    lm.forward(k, lm.embed(k, turn1), 0, cache, { tokens: turn1 });
    const pos0 = cache.reusablePrefix(turn2);
    expect(pos0).toBe(turn1.length);
    const newIds = turn2.slice(pos0);
    const got = await k.read(
      lm.forward(k, lm.embed(k, newIds), pos0, cache, { tokens: newIds, lastRowOnly: true }),
    );
    const fresh = await k.read(lm.forward(k, lm.embed(k, turn2), 0, KvCache.create(k, cfg.text, 16)));
    expect(maxRelError(got, fresh.subarray((turn2.length - 1) * V))).toBeLessThan(1e-6);
    // a prompt that diverges early reuses only the common prefix; a repeat keeps one token to prefill
    expect(cache.reusablePrefix([978, 491, 1, 2])).toBe(2);
    expect(cache.reusablePrefix(turn2)).toBe(turn2.length - 1);
    expect(cache.reusablePrefix([978, null, 985])).toBe(1);
  });

  it('refuses a prompt that does not fit with ContextOverflowError', async () => {
    const { cfg, lm } = await tinyB();
    const cache = KvCache.create(k, cfg.text, 4);
    expect(cache.capacity).toBe(4);
    let err: unknown;
    try {
      lm.forward(k, lm.embed(k, [1, 2, 3, 4, 5]), 0, cache);
    } catch (e) {
      err = e;
    }
    expect(isKimiVLError(err, 'ContextOverflowError')).toBe(true);
    expect(KvCache.create(k, { ...cfg.text, maxPositionEmbeddings: 8 }, 100).capacity).toBe(8);
  });

  it('splices image features at the placeholder rows and checks their count', async () => {
    const { cfg, lm } = await tinyB();
    const ph = cfg.mediaPlaceholderTokenId;
    const D = cfg.text.hiddenSize;
    const feats = k.upload(
      Float32Array.from({ length: 2 * D }, (_, i) => i),
      [2, D],
    );
    const x = await k.read(lm.embedWithImages(k, [5, ph, 7, ph], feats));
    const e = await k.read(lm.embed(k, [5, 7]));
    expect(Array.from(x.subarray(D, 2 * D))).toEqual(Array.from({ length: D }, (_, i) => i));
    expect(Array.from(x.subarray(3 * D))).toEqual(Array.from({ length: D }, (_, i) => D + i));
    expect(Array.from(x.subarray(2 * D, 3 * D))).toEqual(Array.from(e.subarray(D)));
    expect(() => lm.embedWithImages(k, [5, ph], feats)).toThrow(/placeholders/);
  });
});
