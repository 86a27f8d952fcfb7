// End-to-end figures through KimiVLModel (browser side): image encode per image size, prefill tokens/s,
// decode tokens/s, time to first token, and per decoded token the GPU submissions, readbacks and bytes
// read (rt.stats) against the theoretical minimum from the config (bench/active_bytes.ts).

import type { KimiVLConfig } from '../src/config/config.ts';
import type { GpuRuntime } from '../src/gpu/runtime.ts';
import type { Kernels, SamplingParams } from '../src/kernels/types.ts';
import { KimiVLModel } from '../src/model/kimi_vl.ts';
import { USER_KV_CACHE_DTYPE } from '../src/model/kv_cache.ts';
import type { HostWeight } from '../src/tensor/types.ts';
import { engineDecode } from './engine_decode.ts';
import { startPassTimer } from './gpu_timestamps.ts';
import { followUpTurns, textIds } from './image_turns.ts';
import { attachLedger, minTokenBytes } from './per_token.ts';
import { syntheticActivations } from './synthetic.ts';
import { median } from './timing.ts';
import type { EndToEndRow } from './types.ts';

const GREEDY: SamplingParams = { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, seed: 0 };

export interface E2ESpec {
  model: string;
  quant: string;
  cfg: KimiVLConfig;
  host: ReadonlyMap<string, HostWeight>;
  /** Image grids (patches per side) to time; the first also goes into the TTFT prompt. */
  imageSides: number[];
  promptTokens: number;
  decodeSteps: number;
  reps: number;
  note?: string;
}

function pixels(cfg: KimiVLConfig, side: number): { values: Float32Array; L: number } {
  const p = cfg.vision.patchSize;
  const L = side * side;
  return { values: syntheticActivations(L * 3 * p * p, side), L };
}

async function timeMs(rt: GpuRuntime, fn: () => void | Promise<void>): Promise<number> {
  await rt.sync();
  const t0 = performance.now();
  await fn();
  await rt.sync();
  return performance.now() - t0;
}

export async function runEndToEnd(rt: GpuRuntime, k: Kernels, s: E2ESpec): Promise<EndToEndRow> {
  const m = KimiVLModel.load(k, s.cfg, s.host);
  const P = s.cfg.vision.patchSize;
  const maxCtx = s.promptTokens + s.imageSides[0]! ** 2 / 4 + s.decodeSteps + 8;
  try {
    // image encode per size (first run compiles pipelines: warm up once)
    const imageEncode: EndToEndRow['imageEncode'] = [];
    for (const side of s.imageSides) {
      const { values, L } = pixels(s.cfg, side);
      const px = k.upload(values, [L, 3 * P * P]);
      const grids = [{ h: side, w: side }];
      const once = () => {
        const e = m.encodeImages(k, px, grids);
        k.release(e.visionOut, e.features);
      };
      await timeMs(rt, once);
      const samples: number[] = [];
      for (let r = 0; r < s.reps; r++) samples.push(await timeMs(rt, once));
      imageEncode.push({ pixels: `${side * P}×${side * P}`, patches: L, ms: median(samples) });
      k.release(px);
    }

    // time to first token: image encode + prefill of text and image placeholders + sample + readback
    const side = s.imageSides[0]!;
    const F = (side * side) / 4;
    const ids = [
      ...textIds(s.cfg, 4, 1),
      ...new Array<number>(F).fill(s.cfg.mediaPlaceholderTokenId),
      ...textIds(s.cfg, s.promptTokens - 4, 2),
    ];
    const { values, L } = pixels(s.cfg, side);
    const firstToken = async () => {
      const cache = m.newCache(k, maxCtx, USER_KV_CACHE_DTYPE); // the cache users run (f16)
      const t0 = performance.now();
      const px = k.upload(values, [L, 3 * P * P]);
      const e = m.encodeImages(k, px, [{ h: side, w: side }]);
      const logits = m.prefill(k, ids, e.features, cache, true);
      const tok = k.sample(logits, null, GREEDY, 0);
      const id = (await k.readU32(tok))[0]!;
      const ms = performance.now() - t0;
      k.release(px, e.visionOut, e.features, logits, tok);
      return { ms, cache, id };
    };
    (await firstToken()).cache.release(k); // warm-up
    const ttfts: { ms: number; cache: ReturnType<KimiVLModel['newCache']>; id: number }[] = [];
    for (let r = 0; r < s.reps; r++) ttfts.push(await firstToken());
    const ttftMs = median(ttfts.map((t) => t.ms));
    for (const t of ttfts.slice(1)) t.cache.release(k);
    const { cache } = ttfts[0]!;
    let id = ttfts[0]!.id;

    // prefill tokens/s on text alone
    const text = textIds(s.cfg, s.promptTokens, 3);
    const prefillSamples: number[] = [];
    for (let r = 0; r <= s.reps; r++) {
      const c2 = m.newCache(k, s.promptTokens + 1);
      const ms = await timeMs(rt, () => k.release(m.prefill(k, text, null, c2, true)));
      c2.release(k);
      if (r > 0) prefillSamples.push(ms); // r = 0 compiles this prompt length's pipelines
    }
    const prefillTokPerS = s.promptTokens / (median(prefillSamples) / 1000);

    // decode: step → sample → read the id (the one readback a token needs). step() embeds every fed id
    // as text, the image placeholder included, so whatever random weights pick is fed back as is.
    const step = async (i: number) => {
      const logits = m.step(k, [id], cache);
      const tok = k.sample(logits, null, GREEDY, i + 1);
      id = (await k.readU32(tok))[0]!;
      k.release(logits, tok);
    };
    await step(0); // warm: decode-shaped pipelines and bind groups
    const pos0 = cache.pos;
    await rt.sync();
    const before = { ...rt.stats };
    const t = s.cfg.text;
    const ledger = attachLedger(rt, t.kvLoraRank + t.qkRopeHeadDim);
    const timer = startPassTimer(rt.device);
    const t0 = performance.now();
    const n = s.decodeSteps;
    for (let i = 1; i <= n; i++) await step(i);
    const decodeMs = performance.now() - t0;
    const busy = await timer?.stop();
    ledger.detach();
    const d = (key: keyof typeof before) => (rt.stats[key] - before[key]) / n;
    const midPos = pos0 + (n - 1) / 2; // average position of the timed steps
    // what the kernels report + the cache rows of attention dispatches that report none (bench/kv_reads.ts)
    const kvRead = (ledger.modelledKvBytes + ledger.reportedKvBytes) / n;
    const bytesRead = d('bytesRead') + ledger.modelledKvBytes / n;
    const minBytes = minTokenBytes(s.cfg, s.host, midPos);
    const decodeTokPerS = n / (decodeMs / 1000);
    // the plain loop's per-token figures, read before the engine loop and the follow-up add to rt.stats
    const perToken: EndToEndRow['perToken'] = {
      submits: d('submits'),
      readbacks: d('readbacks'),
      dispatches: d('dispatches'),
      bytesRead,
      kvBytesRead: kvRead,
      minBytes,
      ratio: bytesRead / minBytes,
      context: Math.round(midPos + 1),
      achievedGBps: (bytesRead * decodeTokPerS) / 1e9,
      ...(busy && !busy.overflowed
        ? { gpuBusyMs: busy.busyMs / n, gpuIdleMs: Math.max(0, decodeMs - busy.busyMs) / n }
        : {}),
    };
    cache.release(k);
    const viaEngine = await engineDecode(rt, k, m, id, n);
    // a second turn about the same image, through the engine's request path
    const followUp = await followUpTurns(k, rt, m, s.imageSides[0]!);
    return {
      model: s.model,
      quant: s.quant,
      imageEncode,
      promptTokens: ids.length,
      prefillTokPerS,
      decodeTokPerS,
      decodeSteps: n,
      ttftMs,
      perToken,
      engineDecode: viaEngine,
      followUp,
      note: s.note,
    };
  } finally {
    // submit what is recorded while the weights still exist (a failed section must not poison the next)
    await rt.sync().catch(() => undefined);
    m.release(k);
  }
}
