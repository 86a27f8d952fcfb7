import { describe, expect, it } from 'vitest';
import { followUpSection, imageTtftSection, speedupVerdict } from './report_images.ts';
import type { BenchResult, EndToEndRow, FollowUpTurn, ImageTtftRow } from './types.ts';

const figures = (attentionMs: number, ttftMs: number) => ({ attentionMs, encodeMs: 1, ttftMs });
const row = (patches: number, before: number, after: number): ImageTtftRow => ({
  model: 'stack',
  quant: 'q4',
  pixels: `${Math.sqrt(patches) * 14}²`,
  patches,
  imageTokens: patches / 4,
  promptTokens: patches / 4 + 20,
  beforeKernels: 'old',
  afterKernels: 'new',
  before: figures(before, before * 2),
  after: figures(after, after * 2),
  attentionSpeedup: before / after,
  ttftSpeedup: before / after,
});
const follow = (over: Partial<FollowUpTurn>): FollowUpTurn => ({
  imageEncodeMs: 0,
  imagesEncoded: 0,
  prefillTokens: 7,
  newTokens: 7,
  promptTokens: 26,
  cachedPromptTokens: 19,
  ttftMs: 40,
  reuseMs: 1,
  firstTurn: { imageEncodeMs: 30, imagesEncoded: 1, prefillTokens: 16, ttftMs: 100 },
  ...over,
});
const result = (extra: Partial<BenchResult>) => ({ endToEnd: [], ...extra }) as unknown as BenchResult;

describe('image report sections', () => {
  it('judges a speed-up against its goal', () => {
    expect(speedupVerdict(6, 5)).toBe('goal ≥ 5×: met');
    expect(speedupVerdict(1.2, 5)).toBe('**goal ≥ 5×: missed (1.20×)**');
    expect(speedupVerdict(Number.NaN, 5)).toBe('');
  });

  it('puts the goals on the 448² row only and says why a size was skipped', () => {
    const skipped: ImageTtftRow = { ...row(4096, 1, 1), skipped: 'skipped: over budget' };
    delete skipped.before;
    const md = imageTtftSection(result({ imageTtft: [row(256, 4, 2), row(1024, 9, 3), skipped] }), 'dev');
    const lines = md.filter((l) => l.startsWith('| 2') || l.startsWith('| 4') || l.startsWith('| 8'));
    expect(lines).toHaveLength(3);
    expect(lines[0]).not.toContain('goal');
    expect(lines[1]).toContain('**goal ≥ 5×: missed (3.00×)**');
    expect(lines[1]).toContain('goal ≥ 3×: met');
    expect(lines[2]).toContain('skipped: over budget');
  });

  it('calls a follow-up met only when it encodes nothing and prefills exactly its new tokens', () => {
    const e2e = (f: FollowUpTurn) => ({ model: 'm', quant: 'q4', followUp: f }) as unknown as EndToEndRow;
    const verdicts = (fs: FollowUpTurn[]) =>
      followUpSection(result({ endToEnd: fs.map(e2e) }))
        .filter((l) => l.startsWith('| m '))
        .map((l) => l.split('|').at(-2)!.trim());
    expect(
      verdicts([follow({}), follow({ imagesEncoded: 1, imageEncodeMs: 30 }), follow({ prefillTokens: 26 })]),
    ).toEqual(['met', '**missed**', '**missed**']);
    expect(followUpSection(result({}))).toEqual([]);
  });
});
