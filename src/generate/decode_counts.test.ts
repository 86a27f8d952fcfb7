// The counting backend on the golden tiny-a config (Node, no adapter): per decoded token the pipelined
// loop submits once and reads back once, creates no pipeline, bind group or buffer, uploads only the
// uniform blocks whose values changed with the position, and records the same dispatches as the plain
// loop; the runtime's counters agree with what the device saw; every steady token costs the same.
import { beforeAll, describe, expect, it } from 'vitest';
import type { KimiVLConfig } from '../config/config.ts';
import { GOLDEN_ROOT } from '../golden/location.ts';
import { nodeGoldenIO as io } from '../golden/node_io.ts';
import { loadGoldenModel, readCase } from '../golden/reader.ts';
import { countDecode, shapeOnlyWeights } from './decode_counts.ts';

let cfg: KimiVLConfig;
beforeAll(async () => {
  const c = await readCase(io, `${GOLDEN_ROOT}/cases/a-text-only`);
  cfg = (await loadGoldenModel(io, c.modelDir)).config;
});

describe('countDecode (counting backend, tiny-a)', () => {
  it('pipelined: one submit, one readback, no new GPU objects, device and runtime agree', async () => {
    const r = await countDecode(cfg, { quant: 'bf16', context: 20, tokens: 8 });
    expect(r.perToken).toHaveLength(7);
    const steady = r.perToken.slice(1, -1); // the first follows the prefill, the last is never fed
    // equal but for `replayed`: the first steps walk until a tape is verified (replay_counts.test.ts)
    const same = ({ replayed: _, ...t }: (typeof steady)[number]) => t;
    for (const t of steady) {
      expect(same(t)).toEqual(same(steady[0]!));
      expect(t.submits).toBe(1);
      expect(t.readbacks).toBe(1);
      expect(t.deviceSubmits).toBe(1);
      expect(t.deviceDispatches).toBe(t.dispatches);
      expect(t.pipelinesCreated + t.bindGroupsCreated + t.buffersCreated).toBe(0);
      expect(t.deviceWriteBytes).toBe(t.uniformBytes); // no id upload: only new uniform blocks are written
      expect(t.uniformBytes % 16).toBe(0); // whole uniform structs (alignment padding is not written)
      expect(t.uniformBytes).toBeGreaterThan(0); // the position is in some uniforms…
      expect(t.uniformBytes).toBeLessThan(t.dispatches * 256); // …but most blocks are reused
    }
    expect(same(r.steady)).toEqual(same(steady[0]!));
    expect(r.perToken.at(-1)!.dispatches).toBe(0); // the last token: nothing speculated after it
  });

  it('the plain loop records the same dispatches and uniforms, plus the id upload’s submit', async () => {
    const piped = await countDecode(cfg, { quant: 'bf16', context: 20, tokens: 8 });
    const plain = await countDecode(cfg, { quant: 'bf16', context: 20, tokens: 8, pipelined: false });
    expect(plain.steady.dispatches).toBe(piped.steady.dispatches);
    expect(plain.steady.uniformBytes).toBe(piped.steady.uniformBytes);
    expect(plain.steady.submits).toBe(2);
    expect(plain.steady.readbacks).toBe(1);
    expect(plain.steady.deviceWriteBytes).toBe(plain.steady.uniformBytes + 4); // + the 4-byte id
  });

  it('split sampler: top-k adds the radix-select passes; weights carry no bytes', async () => {
    const opts = { quant: 'q8', context: 5, tokens: 5, sampler: 'split' } as const;
    const greedy = await countDecode(cfg, opts);
    const topK = await countDecode(cfg, { ...opts, temperature: 0.7, topK: 8 });
    expect(topK.steady.dispatches - greedy.steady.dispatches).toBe(2 + 8); // MASS, PICK, 4 × (HIST, SELECT)
    for (const w of shapeOnlyWeights(cfg, 'q8').values()) expect(w.bytes.byteLength).toBe(0);
  });
});
