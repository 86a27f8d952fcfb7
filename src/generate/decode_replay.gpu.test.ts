// Replay of the recorded decode step (src/gpu/replay/) on WebGPU with the golden tiny-a model, replay on
// against replay off: bit-identical logits step by step across an MLA split-count change and a cache
// rollback; the same tokens, stream and cache from the pipelined loop for greedy, seeded top-k/top-p,
// a stop id and forced ids (the loop's discard → cache.commit(pos, [])); replayed steps create no GPU
// object and skip the walk; a lost device surfaces as DeviceLostError from a replayed step too, and a
// new runtime (what recovery builds) replays correctly again. The runtime keeps no guard words here:
// guarded buffers are never reused, so nothing could be replayed.
import { describe, expect, test } from 'vitest';
import { server } from 'vitest/browser';
import { isKimiVLError } from '../errors.ts';
import { browserGoldenIO as io } from '../golden/browser_io.ts';
import { joinPath } from '../golden/case.ts';
import { loadGoldenModel, readCase } from '../golden/reader.ts';
import { partsOf } from '../gpu/parted_tensor.ts';
import type { GpuRuntime } from '../gpu/runtime.ts';
import { withRuntime } from '../gpu/testing.ts';
import { createGpuKernels } from '../kernels/gpu_kernels.ts';
import { planMlaDecode } from '../kernels/language/mla_decode_plan.ts';
import type { Kernels } from '../kernels/types.ts';
import { KimiVLModel } from '../model/kimi_vl.ts';
import { mlaDimsOf } from '../model/language.ts';
import { type GenerateRequest, generate } from './generate.ts';
import { type GenerateOptions, resolveGenerateOptions } from './params.ts';
import { TimingRecorder } from './timings.ts';

const root = joinPath(server.config.root, '../shared/golden');
const golden = await readCase(io, joinPath(root, 'cases/a-text-only'));
const { config: cfg, host } = await loadGoldenModel(io, golden.modelDir);
const GREEDY = { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, seed: 0 };

/** Runs `fn` on a fresh unguarded runtime with tiny-a loaded. */
const withModel = <T>(fn: (rt: GpuRuntime, k: Kernels, model: KimiVLModel) => Promise<T>) =>
  withRuntime(
    {},
    async (rt) => {
      const k = createGpuKernels(rt);
      return fn(rt, k, KimiVLModel.load(k, cfg, host));
    },
    { guards: false },
  );

/** The split count MLA decode plans for `keys` keys of this cache on this adapter. */
function splitsAt(rt: GpuRuntime, cache: ReturnType<KimiVLModel['newCache']>, keys: number) {
  const d = mlaDimsOf(cfg);
  return planMlaDecode(rt, d, keys, partsOf(cache.layers[0]!), false).splits;
}

interface StepRow {
  bits: number[];
  dispatches: number;
  replayed: number;
  created: number;
  hostMs: number;
}

/** Greedy decode of `steps` steps fed the GPU-held id, after a `context`-row prompt; one rollback at step 5. */
async function decodeSteps(replay: boolean, context: number, steps: number) {
  return withModel(async (rt, k, model) => {
    const prompt = Array.from({ length: context }, (_, i) => golden.inputIds[i % golden.inputIds.length]!);
    const cache = model.newCache(k, context + steps + 2);
    let id = k.sample(model.prefill(k, prompt, null, cache, true), null, GREEDY, 0);
    const rows: StepRow[] = [];
    const splits: number[] = [];
    for (let s = 0; s < steps; s++) {
      if (s === 5) {
        // a speculative step the pipelined loop discards: the cache rolls back, its row is rewritten next
        const pos = cache.pos;
        k.release(model.stepOnDevice(k, id, cache, { replay }));
        cache.commit(pos, []);
      }
      splits.push(splitsAt(rt, cache, cache.pos + 1));
      const before = { ...rt.stats, created: rt.pipelines.size + rt.pool.bytesAllocated };
      const t0 = performance.now();
      const logits = model.stepOnDevice(k, id, cache, { replay });
      const walkSample = () => k.sample(logits, null, GREEDY, s + 1);
      const next = replay
        ? k.replayable!('sample', [logits, ...Object.values(GREEDY)], { step: s + 1 }, walkSample).out
        : walkSample();
      k.flush(); // the submit: host time is recording (or replaying) up to here
      const hostMs = performance.now() - t0;
      const f32 = await k.read(logits);
      rows.push({
        bits: Array.from(new Uint32Array(f32.buffer)),
        dispatches: rt.stats.dispatches - before.dispatches,
        replayed: rt.stats.replayed - before.replayed,
        created:
          rt.stats.bindGroupsCreated -
          before.bindGroupsCreated +
          rt.pipelines.size +
          rt.pool.bytesAllocated -
          before.created,
        hostMs,
      });
      k.release(logits, id);
      id = next;
    }
    k.release(id);
    return { rows, splits, tokens: [...cache.tokens] };
  });
}

type Over = Partial<GenerateRequest> & { opts?: GenerateOptions };

/** One pipelined generate() with everything a caller observes, plus how many dispatches were replayed. */
async function generateRun(replay: boolean, over: Over = {}) {
  return withModel(async (rt, k, model) => {
    const cache = model.newCache(k, 96);
    const streamed: Array<[number, boolean]> = [];
    const { opts, ...rest } = over;
    const result = await generate(k, model, cache, {
      ids: golden.inputIds,
      features: null,
      options: resolveGenerateOptions({ temperature: 0, maxTokens: 16, seed: 1, ...opts }, false),
      stopIds: [],
      isCancelled: () => false,
      onToken: (id, forced) => void streamed.push([id, forced]),
      timings: new TimingRecorder(),
      replay,
      ...rest,
    });
    return { result, streamed, pos: cache.pos, tokens: [...cache.tokens], replayed: rt.stats.replayed };
  });
}

describe('decode replay (WebGPU, tiny-a): replay on equals replay off', () => {
  test('bit-identical logits over 30 steps across a split-count change and a rollback', async () => {
    const context = 180;
    const on = await decodeSteps(true, context, 30);
    const off = await decodeSteps(false, context, 30);
    expect(new Set(on.splits).size).toBeGreaterThan(1); // the split count changes mid-decode
    expect(on.tokens).toEqual(off.tokens);
    on.rows.forEach((r, i) => {
      expect(r.bits, `step ${i}`).toEqual(off.rows[i]!.bits);
      expect(r.dispatches).toBe(off.rows[i]!.dispatches);
    });
    expect(off.rows.every((r) => r.replayed === 0)).toBe(true);
    const replayedSteps = on.rows.filter((r) => r.replayed > 0);
    // the step's and the sampler's tapes replay (the sampler as the pipelined loop calls it)
    expect(replayedSteps.length).toBeGreaterThan(20);
    for (const r of replayedSteps) expect(r.created).toBe(0);
    expect(replayedSteps.filter((r) => r.replayed === r.dispatches).length).toBeGreaterThan(15);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    console.log(
      `tiny-a host ms per step (step + sample, to submit): replay ${mean(on.rows.filter((r) => r.replayed === r.dispatches).map((r) => r.hostMs)).toFixed(3)}` +
        ` vs walk ${mean(off.rows.slice(5).map((r) => r.hostMs)).toFixed(3)}`,
    );
  });

  test('pipelined generate(): greedy, seeded top-k/top-p, a stop id, forced ids give the same run', async () => {
    const stop = golden.expected.newTokens[6]!;
    const cases: Over[] = [
      {},
      { opts: { temperature: 0.9, topK: 20, topP: 0.9, seed: 7, maxTokens: 16 } },
      { opts: { temperature: 1.3, seed: 123, maxTokens: 16 } },
      { stopIds: [stop] },
      { inject: (gen: readonly number[]) => (gen.length === 4 ? [7, 9] : null) },
    ];
    for (const over of cases) {
      const { replayed, ...on } = await generateRun(true, over);
      const { replayed: none, ...off } = await generateRun(false, over);
      expect(on).toEqual(off);
      expect(none).toBe(0);
      expect(replayed).toBeGreaterThan(0);
    }
    const greedy = await generateRun(true, { opts: { maxTokens: 8 } });
    expect(greedy.result.tokens).toEqual(golden.expected.newTokens.slice(0, 8));
  });

  test('a lost device fails a replayed step with DeviceLostError; a new runtime replays correctly', async () => {
    const err = await withModel(async (rt, k, model) => {
      const cache = model.newCache(k, 64);
      let id = k.sample(model.prefill(k, golden.inputIds, null, cache, true), null, GREEDY, 0);
      for (let s = 0; s < 4; s++) {
        const logits = model.stepOnDevice(k, id, cache);
        k.release(id);
        id = k.sample(logits, null, GREEDY, s + 1);
        k.release(logits);
        await k.readU32(id);
      }
      expect(rt.stats.replayed).toBeGreaterThan(0);
      rt.device.destroy(); // what a driver reset looks like to the page
      await new Promise((r) => setTimeout(r, 50));
      try {
        model.stepOnDevice(k, id, cache);
        return null;
      } catch (e) {
        return e;
      }
    });
    expect(isKimiVLError(err, 'DeviceLostError')).toBe(true);
    const again = await generateRun(true, { opts: { maxTokens: 8 } });
    expect(again.result.tokens).toEqual(golden.expected.newTokens.slice(0, 8));
    expect(again.replayed).toBeGreaterThan(0);
  });
});
