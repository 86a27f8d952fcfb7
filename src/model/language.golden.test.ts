// Every golden case through the language model on the REF backend: prompt logits (one prefill at pos 0),
// 8 greedy decode steps through the latent cache, and the routed experts of the prompt.
// Image features come from the case's expected image_features.bin, so this does not depend on vision.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type KimiVLConfig, parseConfig } from '../config/config.ts';
import { createRefCoreOps } from '../kernels/core/ref_core_ops.ts';
import { createRefLanguageOps } from '../kernels/language/ref_ops.ts';
import { argmaxRef } from '../kernels/language/sample.ref.ts';
import type { Kernels } from '../kernels/types.ts';
import type { Tensor } from '../tensor/types.ts';
import { loadHostWeights } from '../weights/node_source.ts';
import { type GoldenCase, listCases, maxRelError, readF32 } from './golden_io.test_util.ts';
import { KvCache } from './kv_cache.ts';
import { LanguageModel, loadLanguageWeights } from './language.ts';

const TOL = 1e-4; // golden README: max|got − exp| / max|exp| per tensor
const cases = listCases();

function refKernels(): Kernels {
  return { ...createRefCoreOps(), ...createRefLanguageOps() } as unknown as Kernels;
}

const models = new Map<string, Promise<{ cfg: KimiVLConfig; lm: LanguageModel; k: Kernels }>>();
function modelFor(dir: string) {
  let m = models.get(dir);
  if (!m) {
    m = (async () => {
      const cfg = parseConfig(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')));
      const k = refKernels();
      const lm = new LanguageModel(cfg, loadLanguageWeights(k, await loadHostWeights(dir), cfg));
      return { cfg, lm, k };
    })();
    models.set(dir, m);
  }
  return m;
}

async function runCase(c: GoldenCase) {
  const { cfg, lm, k: base } = await modelFor(c.modelDir);
  // record the router's ids per call (MoE layers run in order during the prefill)
  const routed: Uint32Array[] = [];
  const k: Kernels = {
    ...base,
    moeRoute(x, g, b, r) {
      const out = base.moeRoute(x, g, b, r);
      base.readU32(out.ids).then((ids) => routed.push(ids));
      return out;
    },
  };
  const T = c.inputIds.length;
  const feats: Tensor | null = c.expected.image_features
    ? k.upload(readF32(c, c.expected.image_features), c.expected.image_features.shape)
    : null;
  const cache = KvCache.create(k, cfg.text, T + 8);
  const x = lm.embedWithImages(k, c.inputIds, feats);
  const logits = await k.read(lm.forward(k, x, 0, cache, { tokens: c.inputIds }));
  const routedPrompt = routed.splice(0);
  const V = cfg.text.vocabSize;
  const tokens = [argmaxRef(logits.subarray((T - 1) * V))];
  const steps = new Float32Array(8 * V);
  for (let i = 0; i < 8; i++) {
    const xi = lm.embed(k, [tokens[i]!]);
    const li = await k.read(lm.forward(k, xi, T + i, cache, { tokens: [tokens[i]!] }));
    steps.set(li, i * V);
    tokens.push(argmaxRef(li));
  }
  return { logits, steps, tokens: tokens.slice(0, 8), routedPrompt, cfg, cache };
}

describe('language model vs golden cases (REF backend)', () => {
  it('finds golden cases', () => expect(cases.length).toBeGreaterThan(0));
  for (const c of cases) {
    it(`${c.name}: logits, greedy tokens, step logits, routing`, async () => {
      const r = await runCase(c);
      const errLogits = maxRelError(r.logits, readF32(c, c.expected.logits));
      const errSteps = maxRelError(r.steps, readF32(c, c.expected.step_logits));
      console.log(
        `${c.name}: logits ${errLogits.toExponential(2)} step_logits ${errSteps.toExponential(2)} tokens ${r.tokens.join(',')}`,
      );
      expect(r.tokens).toEqual(c.expected.new_tokens);
      expect(errLogits).toBeLessThanOrEqual(TOL);
      expect(errSteps).toBeLessThanOrEqual(TOL);
      expect(r.cache.pos).toBe(c.inputIds.length + 8);
      const rp = c.debug?.routing_prompt;
      if (rp) {
        const A = r.cfg.text.numExpertsPerTok;
        expect(r.routedPrompt.length).toBe(rp.moe_layers.length);
        rp.moe_layers.forEach((layer, li) => {
          const got = r.routedPrompt[li]!;
          rp.experts[li]!.forEach((exp, pos) => {
            const ids = Array.from(got.subarray(pos * A, (pos + 1) * A)).sort((a, b) => a - b);
            expect(ids, `layer ${layer} position ${pos}`).toEqual(exp);
          });
        });
      }
    });
  }
});
