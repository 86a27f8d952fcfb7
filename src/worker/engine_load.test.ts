// The streamed load's host memory, measured: the bench's real-size layer stack (Kimi-VL-A3B's own widths:
// one MoonViT block, the projector, one dense and one MoE layer with all 64 experts, vocabulary cut to
// 4096) at q4 as the browser cache holds it (~0.4 GB), read through assembleWeights and uploaded with
// uploadStreamed, the engine's own path. The "device" copies each weight through a staging buffer the
// way mappedAtCreation does and keeps only a checksum. After every read and every upload the test
// collects garbage and samples the bytes held by live ArrayBuffers: the peak above the baseline is what
// the host retained.
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/config.ts';
import { KimiVLError } from '../errors.ts';
import type { HostWeight, Tensor } from '../tensor/types.ts';
import { assembleWeights } from '../weights/assemble.ts';
import type { TensorInfo, TensorSource } from '../weights/checkpoint.ts';
import { planMemory } from '../weights/memory_plan.ts';
import { WEIGHT_TO_SAFETENSORS } from '../weights/safetensors.ts';
import { uploadStreamed } from './engine_load.ts';

setFlagsFromString('--expose_gc');
const gc = runInNewContext('gc') as () => void;

function stackConfig() {
  const raw = JSON.parse(
    readFileSync(new URL('../../../shared/spec/Kimi-VL-A3B-Instruct.config.json', import.meta.url), 'utf8'),
  );
  raw.vision_config.num_hidden_layers = 1;
  raw.text_config.num_hidden_layers = 2;
  raw.text_config.vocab_size = 4096;
  raw.vocab_size = 4096;
  raw.media_placeholder_token_id = 4095;
  for (const key of ['bos_token_id', 'eos_token_id', 'pad_token_id']) raw.text_config[key] = 4094;
  return parseConfig(raw, 'Kimi-VL-A3B (bench stack)');
}

/** Engine-named tensors whose bytes are made on each read (the cache's File.slice reads are fresh too). */
function syntheticSource(
  tensors: { name: string; dtype: HostWeight['dtype']; shape: number[]; bytes: number }[],
) {
  const infos = new Map<string, TensorInfo>();
  for (const t of tensors)
    infos.set(t.name, {
      dtype: WEIGHT_TO_SAFETENSORS[t.dtype],
      shape: t.shape,
      bytes: t.bytes,
      file: 'model.safetensors',
      start: 0,
      end: t.bytes,
    });
  let seed = 1;
  const source: TensorSource = {
    naming: 'engine',
    list: () => [...infos.keys()],
    has: (n) => infos.has(n),
    info: (n) => infos.get(n)!,
    async read(n) {
      const out = new Uint8Array(infos.get(n)!.bytes);
      const words = new Uint32Array(out.buffer, 0, out.byteLength >> 2);
      let x = seed++;
      for (let i = 0; i < words.length; i++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        words[i] = x >>> 0;
      }
      return out;
    },
  };
  return source;
}

describe('streamed load (host memory)', () => {
  it('retains at most 2 × the largest tensor + the upload staging for a ≥ 256 MiB model', async () => {
    const cfg = stackConfig();
    const tensors = planMemory(cfg, { quant: 'q4', context: 1 }).tensors;
    const total = tensors.reduce((a, t) => a + t.bytes, 0);
    const largest = Math.max(...tensors.map((t) => t.bytes));
    expect(total).toBeGreaterThanOrEqual(256 * 2 ** 20);
    const source = syntheticSource(tensors);

    gc();
    const base = process.memoryUsage().arrayBuffers;
    let peak = 0;
    const sample = () => {
      gc();
      peak = Math.max(peak, process.memoryUsage().arrayBuffers - base);
    };
    const read = source.read.bind(source);
    source.read = async (n) => {
      const b = await read(n);
      sample();
      return b;
    };
    let uploadedBytes = 0;
    let checksum = 0;
    const upload = (w: HostWeight): Tensor => {
      // mappedAtCreation: a staging range of the weight's size, filled, then handed to the GPU.
      const staging = new Uint8Array(w.bytes.byteLength);
      staging.set(w.bytes);
      sample();
      checksum = (checksum + staging[staging.length >> 1]!) >>> 0;
      uploadedBytes += w.bytes.byteLength;
      return { shape: w.shape, dtype: w.dtype } as unknown as Tensor;
    };
    const uploaded = await uploadStreamed(assembleWeights(cfg, source, { quant: 'none' }), upload, () => {});
    sample();
    expect(uploaded.size).toBe(tensors.length);
    expect(uploadedBytes).toBe(total);
    const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
    console.log(
      `streamed load: ${tensors.length} tensors, ${mib(total)} uploaded; host peak of retained weight bytes ` +
        `${mib(peak)} (largest tensor ${mib(largest)}; bound 2 × largest + staging = ${mib(3 * largest)})`,
    );
    expect(peak).toBeLessThanOrEqual(2 * largest + largest);
    // The old path (every weight in a Map before the device) would have held the whole model.
    expect(peak).toBeLessThan(total / 2);
  }, 300_000);

  it('releases what was uploaded when the stream fails midway', async () => {
    const released: string[] = [];
    async function* weights(): AsyncGenerator<[string, HostWeight]> {
      yield ['a', { dtype: 'f32', shape: [1], bytes: new Uint8Array(4) }];
      yield ['b', { dtype: 'f32', shape: [1], bytes: new Uint8Array(4) }];
      throw new KimiVLError('CacheError', 'read failed');
    }
    let n = 0;
    await expect(
      uploadStreamed(
        weights(),
        () => ({ id: n++ }) as unknown as Tensor,
        (t) => released.push(String((t as unknown as { id: number }).id)),
      ),
    ).rejects.toThrow(/read failed/);
    expect(released).toEqual(['0', '1']);
  });

  it('stops between weights when the load is cancelled', async () => {
    const abort = new AbortController();
    async function* weights(): AsyncGenerator<[string, HostWeight]> {
      yield ['a', { dtype: 'f32', shape: [1], bytes: new Uint8Array(4) }];
      abort.abort();
      yield ['b', { dtype: 'f32', shape: [1], bytes: new Uint8Array(4) }];
    }
    await expect(
      uploadStreamed(
        weights(),
        () => ({}) as Tensor,
        () => {},
        abort.signal,
      ),
    ).rejects.toMatchObject({ name: 'AbortError' });
  });
});
