// Replay of the recorded decode step (src/gpu/replay/) on the counting backend (Node, no adapter), the
// tiny-a and the real 27-layer config: replayed tokens record the same dispatches, bytes and uniform
// blocks as walked ones and create no GPU object; once verified, a steady token is all replay and never
// walks; and an audit that walks every step and compares it with the tape a replay would have encoded
// finds no difference across MLA split-count changes and a rope-table regrowth: there the tape's patches
// refuse (the step walks and re-records), everywhere else the prediction matches the walk exactly.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { type KimiVLConfig, parseConfig } from '../config/config.ts';
import { GOLDEN_ROOT } from '../golden/location.ts';
import { nodeGoldenIO as io } from '../golden/node_io.ts';
import { loadGoldenModel, readCase } from '../golden/reader.ts';
import { createCountingRuntime } from '../gpu/counting.ts';
import { replayerFor } from '../gpu/replay/replayer.ts';
import { createGpuKernels } from '../kernels/gpu_kernels.ts';
import { decodeChunk, decodeTiles } from '../kernels/language/mla_decode_plan.ts';
import { KimiVLModel } from '../model/kimi_vl.ts';
import { mlaDimsOf } from '../model/language.ts';
import { countDecode, shapeOnlyWeights, type TokenCounts } from './decode_counts.ts';
import { generate } from './generate.ts';
import { resolveGenerateOptions } from './params.ts';
import { TimingRecorder } from './timings.ts';

let tiny: KimiVLConfig;
const real = parseConfig(
  JSON.parse(
    readFileSync(new URL('../../configs/Kimi-VL-A3B-Instruct.config.json', import.meta.url), 'utf8'),
  ),
);
beforeAll(async () => {
  const c = await readCase(io, `${GOLDEN_ROOT}/cases/a-text-only`);
  tiny = (await loadGoldenModel(io, c.modelDir)).config;
});

const withoutReplayed = ({ replayed: _, ...t }: TokenCounts) => t;

/** MLA decode's split count at `keys` keys on the counting device (f32 cache, 128 workgroups). */
function splitsAt(cfg: KimiVLConfig, keys: number): number {
  const d = mlaDimsOf(cfg);
  const tiles = decodeTiles(d, 32768);
  return Math.ceil(keys / decodeChunk(d, keys, tiles.tk, tiles.headGroups, 4, 128));
}

/** Pipelined greedy/top-k decode of `tokens` tokens after `context` cached positions, every step audited. */
async function audited(cfg: KimiVLConfig, context: number, tokens: number, topK = 0) {
  const { rt } = createCountingRuntime();
  const k = createGpuKernels(rt);
  const model = KimiVLModel.load(k, cfg, shapeOnlyWeights(cfg, 'q4'));
  const cache = model.newCache(k, context + tokens + 1);
  const ids = new Array<number>(context).fill(0);
  cache.commit(0, ids);
  const audit = { matched: 0, refused: 0, mismatches: [] as string[] };
  replayerFor(rt).audit = audit;
  await generate(k, model, cache, {
    ids,
    features: null,
    options: resolveGenerateOptions(
      { maxTokens: tokens, temperature: topK ? 0.8 : 0, topK, topP: topK ? 0.9 : 1, seed: 3 },
      false,
    ),
    stopIds: [],
    isCancelled: () => false,
    onToken: () => {},
    timings: new TimingRecorder(),
  });
  rt.destroy();
  return audit;
}

describe('decode replay on the counting backend', () => {
  for (const [name, cfgOf] of [
    ['tiny-a', () => tiny],
    ['the real config', () => real],
  ] as const) {
    it(`${name}: replayed tokens count as walked ones, create nothing and never walk`, async () => {
      const opts = { quant: 'q4', context: 40, tokens: 12 } as const;
      const on = await countDecode(cfgOf(), opts);
      const off = await countDecode(cfgOf(), { ...opts, replay: false });
      expect(on.perToken.map(withoutReplayed)).toEqual(off.perToken.map(withoutReplayed));
      expect(off.perToken.every((t) => t.replayed === 0)).toBe(true);
      // tokens 1, 2 walk (record, then verify the decode step's and sampler's tapes): replay from then on
      const steady = on.perToken.slice(3, -1);
      expect(steady.length).toBeGreaterThan(4);
      for (const t of steady) {
        expect(t.replayed).toBe(t.dispatches);
        expect(t.pipelinesCreated + t.bindGroupsCreated + t.buffersCreated).toBe(0);
        expect(t.deviceWriteBytes).toBe(t.uniformBytes);
      }
      if (cfgOf() === real) expect(on.steady.dispatches).toBe(299);
    });
  }

  it('the real config across MLA split-count changes: patches refuse exactly there, match elsewhere', async () => {
    const context = 740;
    const tokens = 40;
    // the split count changes at least once between the first and the last step's key count
    expect(splitsAt(real, context + 1)).not.toBe(splitsAt(real, context + tokens));
    const audit = await audited(real, context, tokens);
    expect(audit.mismatches).toEqual([]);
    expect(audit.refused).toBeGreaterThan(0);
    expect(audit.matched).toBeGreaterThan(2 * (tokens - 10));
  });

  it('tiny-a with seeded top-k/top-p across a split change and the rope table’s regrowth at 256', async () => {
    const audit = await audited(tiny, 240, 40, 5);
    expect(audit.mismatches).toEqual([]);
    expect(audit.refused).toBeGreaterThan(0);
    expect(audit.matched).toBeGreaterThan(2 * 25);
  });
});
