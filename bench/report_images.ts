// Markdown tables of the image sections: time to first token per image size before/after #14's kernels,
// and the follow-up turn about the same image. report.ts assembles them with the rest.
import { fmt, table } from './report_sections.ts';
import type { BenchResult, ImageTtftRow } from './types.ts';

/** "goal ≥ 5×: met" / "**goal ≥ 5×: missed (1.2×)**" for a speed-up with a target. */
export function speedupVerdict(x: number | undefined, goal: number): string {
  if (x === undefined || !Number.isFinite(x)) return '';
  return x >= goal ? `goal ≥ ${goal}×: met` : `**goal ≥ ${goal}×: missed (${x.toFixed(2)}×)**`;
}

/** The goals apply at 448² (1,024 patches). */
const goalAt448 = (row: ImageTtftRow, x: number | undefined, goal: number) =>
  row.patches === 1024 ? speedupVerdict(x, goal) : '';

export function imageTtftSection(r: BenchResult, dev: string): string[] {
  const rows = r.imageTtft;
  if (!rows?.length) return [];
  const first = rows[0]!;
  return [
    '## Image time to first token: before and after',
    '',
    `${first.model}, ${first.quant}, one image and ${first.promptTokens - first.imageTokens} text tokens, ` +
      "through the engine's request path (generateOnDevice: 256-row prefill slices, the first token read back), " +
      'a fresh conversation each time. ' +
      `Before: ${first.beforeKernels}. After: ${first.afterKernels}. ` +
      'Attention = MoonViT attention alone on the same patches at 16 heads × 72. Goals at 448²: attention ≥ 5×, TTFT ≥ 3×.',
    '',
    ...table(
      [
        'image',
        'patches',
        'attention ms before → after',
        'speed-up',
        'encode ms before → after',
        'TTFT ms before → after',
        'speed-up',
        'device',
      ],
      rows.map((t) =>
        t.skipped || !t.before || !t.after
          ? [t.pixels, String(t.patches), t.skipped ?? 'not run', '', '', '', '', dev]
          : [
              t.pixels,
              String(t.patches),
              `${fmt(t.before.attentionMs, 1)} → ${fmt(t.after.attentionMs, 1)}`,
              `${fmt(t.attentionSpeedup)}× ${goalAt448(t, t.attentionSpeedup, 5)}`.trim(),
              `${fmt(t.before.encodeMs, 0)} → ${fmt(t.after.encodeMs, 0)}`,
              `${fmt(t.before.ttftMs, 0)} → ${fmt(t.after.ttftMs, 0)}`,
              `${fmt(t.ttftSpeedup)}× ${goalAt448(t, t.ttftSpeedup, 3)}`.trim(),
              dev,
            ],
      ),
    ),
    '',
  ];
}

export function followUpSection(r: BenchResult): string[] {
  const rows = r.endToEnd.filter((e) => e.followUp);
  if (!rows.length) return [];
  return [
    '## Follow-up turn about the same image',
    '',
    'Two requests through the engine (generateOnDevice) on one conversation: the second is the first prompt, ' +
      "its answer and 6 new text tokens. New tokens = the second prompt's rows the first turn never put in the " +
      'cache. Goal: the follow-up runs no MoonViT pass (image encode 0) and prefills exactly its new tokens.',
    '',
    ...table(
      [
        'model',
        'weights',
        'turn 1: MoonViT passes, encode ms, prefilled, TTFT ms',
        'follow-up: MoonViT passes',
        'image encode ms',
        'prefilled / new tokens',
        'cached prompt rows',
        'TTFT ms',
        'verdict',
      ],
      rows.map((e) => {
        const u = e.followUp!;
        const t1 = u.firstTurn;
        const ok = u.imagesEncoded === 0 && u.prefillTokens === u.newTokens;
        return [
          e.model,
          e.quant,
          `${t1.imagesEncoded}, ${fmt(t1.imageEncodeMs, 0)}, ${t1.prefillTokens}, ${fmt(t1.ttftMs, 0)}`,
          String(u.imagesEncoded),
          fmt(u.imageEncodeMs, 0),
          `${u.prefillTokens} / ${u.newTokens}`,
          `${u.cachedPromptTokens} of ${u.promptTokens}`,
          fmt(u.ttftMs, 0),
          ok ? 'met' : '**missed**',
        ];
      }),
    ),
    '',
  ];
}
