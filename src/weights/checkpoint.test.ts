import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/config.ts';
import { weightTable } from '../config/weight_names.ts';
import { GOLDEN_MODELS } from '../golden/location.ts';
import { checkTensorsAgainstConfig, type TensorInfo, type TensorSource } from './checkpoint.ts';
import { loadHostWeights, openCheckpointDir } from './node_source.ts';

const GOLDEN = GOLDEN_MODELS;

/** Independent minimal reader of the golden shards (test oracle): HF name → {dtype, shape, bytes}. */
function rawTensors(dir: string) {
  const index = JSON.parse(readFileSync(`${dir}/model.safetensors.index.json`, 'utf8'));
  const out = new Map<string, { dtype: string; shape: number[]; bytes: Uint8Array }>();
  for (const shard of new Set<string>(Object.values(index.weight_map))) {
    const buf = new Uint8Array(readFileSync(`${dir}/${shard}`));
    const n = Number(new DataView(buf.buffer).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + n)));
    for (const [k, v] of Object.entries<any>(header)) {
      if (k === '__metadata__') continue;
      out.set(k, {
        dtype: v.dtype,
        shape: v.shape,
        bytes: buf.subarray(8 + n + v.data_offsets[0], 8 + n + v.data_offsets[1]),
      });
    }
  }
  return out;
}

const L = 'language_model.model.layers.';
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

describe.each(['tiny-a', 'tiny-b'])('loadHostWeights(%s)', (model) => {
  const dir = `${GOLDEN}/${model}`;

  it('yields every engine weight with its shape and the stored bytes, experts stacked', async () => {
    const config = parseConfig(JSON.parse(readFileSync(`${dir}/config.json`, 'utf8')));
    const raw = rawTensors(dir);
    const w = await loadHostWeights(dir);
    const table = weightTable(config);
    expect([...w.keys()].sort()).toEqual(table.map((s) => s.name).sort());
    // Every HF tensor but the ignored inv_freq buffers is consumed exactly once.
    const used = table.flatMap((s) => s.hf);
    expect(new Set(used).size).toBe(used.length);
    const ignored = [...raw.keys()].filter((k) => !used.includes(k));
    expect(ignored.length).toBe(config.text.numLayers);
    expect(ignored.every((k) => k.endsWith('self_attn.rotary_emb.inv_freq'))).toBe(true);
    expect([...w.keys()].some((k) => k.includes('inv_freq'))).toBe(false);

    const t = config.text;
    expect(w.get('lm.embed')!.shape).toEqual([t.vocabSize, t.hiddenSize]);
    expect(w.get('lm.embed')!.dtype).toBe('bf16');
    expect(same(w.get('lm.embed')!.bytes, raw.get('language_model.model.embed_tokens.weight')!.bytes)).toBe(
      true,
    );
    expect(same(w.get('lm.head')!.bytes, raw.get('language_model.lm_head.weight')!.bytes)).toBe(true);
    const pe = w.get('vision.patch_embed.weight')!;
    expect(pe.shape).toEqual([config.vision.hiddenSize, 588]);
    expect(same(pe.bytes, raw.get('vision_tower.patch_embed.proj.weight')!.bytes)).toBe(true);
    expect(w.get('vision.pos_emb')!.shape).toEqual([
      config.vision.posEmbHeight,
      config.vision.posEmbWidth,
      config.vision.hiddenSize,
    ]);
    expect(
      same(
        w.get('vision.blocks.0.qkv.weight')!.bytes,
        raw.get('vision_tower.encoder.blocks.0.wqkv.weight')!.bytes,
      ),
    ).toBe(true);

    const moe = t.firstKDenseReplace;
    const E = t.nRoutedExperts;
    const I = t.moeIntermediateSize;
    const D = t.hiddenSize;
    const up = w.get(`lm.layers.${moe}.moe.experts_up`)!;
    expect(up.shape).toEqual([E, I, D]);
    const down = w.get(`lm.layers.${moe}.moe.experts_down`)!;
    expect(down.shape).toEqual([E, D, I]);
    for (const e of [0, 3, E - 1]) {
      const per = I * D * 2;
      expect(
        same(
          up.bytes.subarray(e * per, (e + 1) * per),
          raw.get(`${L}${moe}.mlp.experts.${e}.up_proj.weight`)!.bytes,
        ),
      ).toBe(true);
      expect(
        same(
          down.bytes.subarray(e * per, (e + 1) * per),
          raw.get(`${L}${moe}.mlp.experts.${e}.down_proj.weight`)!.bytes,
        ),
      ).toBe(true);
    }
    const bias = w.get(`lm.layers.${moe}.moe.router_bias`)!;
    expect(bias.dtype).toBe('f32');
    expect(bias.shape).toEqual([E]);
    expect(w.get(`lm.layers.${moe}.moe.shared_gate`)!.shape).toEqual([I * t.nSharedExperts, D]);
    expect(w.get('lm.layers.0.mlp.down')!.shape).toEqual([D, t.intermediateSize]);
    if (t.qLoraRank === null) expect(w.has('lm.layers.0.attn.q')).toBe(true);
    else {
      expect(w.get('lm.layers.0.attn.q_a')!.shape).toEqual([t.qLoraRank, D]);
      expect(w.get('lm.layers.0.attn.q_a_norm')!.shape).toEqual([t.qLoraRank]);
      expect(w.get('lm.layers.0.attn.q_b')!.shape).toEqual([
        t.numHeads * (t.qkNopeHeadDim + t.qkRopeHeadDim),
        t.qLoraRank,
      ]);
    }
    expect(w.get('lm.layers.0.attn.kv_b')!.shape).toEqual([
      t.numHeads * (t.qkNopeHeadDim + t.vHeadDim),
      t.kvLoraRank,
    ]);
    // Every weight's byte size matches its shape and dtype.
    for (const [name, hw] of w) {
      const n = hw.shape.reduce((a, b) => a * b, 1);
      expect(hw.bytes.byteLength, name).toBe(n * (hw.dtype === 'f32' ? 4 : 2));
    }
  });

  it('opens with the checks listed', async () => {
    const ck = await openCheckpointDir(dir);
    expect(ck.format).toBe('hf');
    expect(ck.preprocessor?.inTokenLimit).toBeGreaterThan(0);
    expect(ck.shards.length).toBe(2);
    expect(ck.checks.length).toBeGreaterThanOrEqual(4);
  });
});

describe('checkTensorsAgainstConfig', () => {
  const dir = `${GOLDEN}/tiny-a`;
  /** The tiny-a source with one tensor dropped, renamed, reshaped or re-typed. */
  async function tweaked(edit: (m: Map<string, TensorInfo>) => void): Promise<TensorSource> {
    const ck = await openCheckpointDir(dir);
    const infos = new Map(ck.source.list().map((n) => [n, ck.source.info(n)]));
    edit(infos);
    return {
      naming: 'hf',
      list: () => [...infos.keys()],
      has: (n) => infos.has(n),
      info: (n) => infos.get(n)!,
      read: () => Promise.reject(new Error('not read')),
    };
  }
  const config = () => parseConfig(JSON.parse(readFileSync(`${dir}/config.json`, 'utf8')));
  const E = 'language_model.model.layers.1.mlp.experts.5.up_proj.weight';

  it('refuses a missing expert', async () => {
    const s = await tweaked((m) => m.delete(E));
    expect(() => checkTensorsAgainstConfig(config(), s)).toThrow(
      `missing tensor "${E}" (engine weight lm.layers.1.moe.experts_up)`,
    );
  });
  it('refuses an unexpected tensor', async () => {
    const s = await tweaked((m) => m.set('language_model.model.layers.0.mlp.extra.weight', m.get(E)!));
    expect(() => checkTensorsAgainstConfig(config(), s)).toThrow(
      /unexpected tensor "language_model.model.layers.0.mlp.extra.weight"/,
    );
  });
  it('refuses a transposed weight', async () => {
    const s = await tweaked((m) => {
      const i = m.get(E)!;
      m.set(E, { ...i, shape: [i.shape[1]!, i.shape[0]!] });
    });
    expect(() => checkTensorsAgainstConfig(config(), s)).toThrow(
      /has shape \[64,32\] but config.json implies \[32,64\]/,
    );
  });
  it('refuses a quantised dtype in a Hugging Face checkpoint', async () => {
    const s = await tweaked((m) => m.set(E, { ...m.get(E)!, dtype: 'KVQ8' }));
    expect(() => checkTensorsAgainstConfig(config(), s)).toThrow(
      /only LM linear weights may be quantised|is KVQ8/,
    );
  });
});
