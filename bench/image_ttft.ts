// Time to first token per image size (224², 448², 896²) on one model, with the kernels #14 replaced and
// the runtime's own choice, in one run and through the engine's request path (bench/image_turns.ts). Each
// size also times MoonViT's attention alone on its patches (at the real 16 heads × 72, whatever the model), the figure
// the "vision attention ≥ 5× faster at 448²" is about. Sizes over the run's patch budget (CPU
// adapters: --max-image-patches) are reported as skipped with the reason.

import type { KimiVLConfig } from '../src/config/config.ts';
import { KimiVLModel } from '../src/model/kimi_vl.ts';
import type { HostWeight } from '../src/tensor/types.ts';
import {
  afterKernels,
  beforeKernels,
  freshState,
  imagePrompt,
  kernelsLabel,
  medianOf,
  runTurn,
  syntheticImage,
} from './image_turns.ts';
import { type BenchContext, benchVarlen } from './kernel_bench.ts';
import type { ImageTtftFigures, ImageTtftRow } from './types.ts';
import { type Variant, withVariant } from './variants.ts';

export interface ImageTtftSpec {
  model: string;
  quant: string;
  cfg: KimiVLConfig;
  host: ReadonlyMap<string, HostWeight>;
  /** Image sides in patches (16, 32, 64 = 224², 448², 896² at patch 14). */
  sides: number[];
  /** Text ids after the image. */
  promptText: number;
}

export async function runImageTtft(
  c: BenchContext,
  s: ImageTtftSpec,
  log: (line: string) => void,
): Promise<ImageTtftRow[]> {
  const { rt, k } = c;
  const m = KimiVLModel.load(k, s.cfg, s.host);
  const sets: Array<['before' | 'after', Variant]> = [
    ['before', beforeKernels(c.cpu)],
    ['after', afterKernels(rt)],
  ];
  const reps = c.cpu ? 1 : Math.max(1, Math.min(c.cfg.reps, 3));
  const limit = c.cfg.maxImagePatches;
  const P = s.cfg.vision.patchSize;

  /** One fresh conversation's first token about a side×side image: [image step ms, TTFT ms]. */
  const firstToken = async (side: number, seed: number): Promise<[number, number]> => {
    const ids = imagePrompt(s.cfg, side, s.promptText);
    const fresh = freshState(k, rt, m, ids.length + 2);
    try {
      const t = await runTurn(fresh.s, ids, syntheticImage(s.cfg, side, seed), 1, fresh.passes);
      return [t.imageStepMs, t.ttftMs];
    } finally {
      fresh.release();
    }
  };

  try {
    const runnable = s.sides.filter((side) => limit === null || side * side <= limit);
    // warm-up per kernel set (pipeline compiles stay out of the figures): at the smallest size, or on a
    // CPU adapter, where one 224² request takes a minute, at 196²: the pipelines of the larger sizes
    // (69 LM rows: 128-row GEMM tiles and, at 6.5 slots an expert, the tiled MoE prefill)
    const warmSide = Math.min(...runnable, c.cpu ? 14 : Number.POSITIVE_INFINITY);
    if (runnable.length) for (const [, v] of sets) await withVariant(rt, v, () => firstToken(warmSide, 1));
    const rows: ImageTtftRow[] = [];
    for (const side of s.sides) {
      const patches = side * side;
      const ids = imagePrompt(s.cfg, side, s.promptText);
      const row: ImageTtftRow = {
        model: s.model,
        quant: s.quant,
        pixels: `${side * P}×${side * P}`,
        patches,
        imageTokens: patches / 4,
        promptTokens: ids.length,
        beforeKernels: kernelsLabel(rt, sets[0]![1]),
        afterKernels: kernelsLabel(rt, sets[1]![1]),
      };
      rows.push(row);
      if (limit !== null && patches > limit) {
        row.skipped = `skipped: ${patches} patches is over this run's budget of ${limit} (--max-image-patches; unlimited with --hardware)`;
        log(`image TTFT ${row.pixels}: ${row.skipped}`);
        continue;
      }
      for (const [name, v] of sets) {
        const figures: ImageTtftFigures = await withVariant(rt, v, async () => {
          const attention = await benchVarlen(c, 1, side, rt.tuning.visionAttention);
          let encodeMs = 0;
          const ttftMs = await medianOf(reps, async () => {
            const [enc, ttft] = await firstToken(side, 2);
            encodeMs = enc;
            return ttft;
          });
          return { attentionMs: attention.timing?.ms ?? Number.NaN, encodeMs, ttftMs };
        });
        row[name] = figures;
        log(
          `image TTFT ${row.pixels} ${name}: attention ${figures.attentionMs.toFixed(1)} ms, encode ${figures.encodeMs.toFixed(0)} ms, TTFT ${figures.ttftMs.toFixed(0)} ms`,
        );
      }
      row.attentionSpeedup = row.before!.attentionMs / row.after!.attentionMs;
      row.ttftSpeedup = row.before!.ttftMs / row.after!.ttftMs;
    }
    return rows;
  } finally {
    await rt.sync().catch(() => undefined);
    m.release(k);
  }
}
