import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_TOKENS, resolveGenerateOptions } from './params.ts';
import { TimingRecorder } from './timings.ts';

describe('resolveGenerateOptions', () => {
  it('fills model-card defaults by model kind', () => {
    const i = resolveGenerateOptions({}, false, () => 42);
    expect(i).toEqual({
      maxTokens: DEFAULT_MAX_TOKENS,
      sampling: { temperature: 0.2, topP: 1, topK: 0, repetitionPenalty: 1, seed: 42 },
      stop: [],
    });
    expect(resolveGenerateOptions({}, true, () => 1).sampling.temperature).toBe(0.8);
  });

  it('keeps explicit values, including temperature 0', () => {
    const r = resolveGenerateOptions({ maxTokens: 3, temperature: 0, topP: 0.5, topK: 4, seed: 9 }, true);
    expect(r.maxTokens).toBe(3);
    expect(r.sampling).toMatchObject({ temperature: 0, topP: 0.5, topK: 4, seed: 9 });
  });

  it.each([
    [{ maxTokens: 0 }, /maxTokens/],
    [{ maxTokens: 1.5 }, /maxTokens/],
    [{ temperature: -1 }, /temperature/],
    [{ topP: 0 }, /topP/],
    [{ topP: 1.1 }, /topP/],
    [{ topK: -1 }, /topK/],
    [{ repetitionPenalty: 0 }, /repetitionPenalty/],
    [{ seed: -3 }, /seed/],
    [{ stop: '' }, /stop\[0\] must be a non-empty string/],
    [{ stop: ['a', 3 as unknown as string] }, /stop\[1\]/],
    [{ stop: Array(17).fill('x') }, /at most 16/],
    [{ stop: 5 as unknown as string }, /stop must be a string or an array/],
  ])('refuses %o', (o, msg) => {
    expect(() => resolveGenerateOptions(o, false)).toThrow(msg);
    try {
      resolveGenerateOptions(o, false);
    } catch (e) {
      expect((e as Error).name).toBe('ConfigError');
    }
  });
});

describe('stop strings', () => {
  it('a string or a list becomes a list; none is empty', () => {
    expect(resolveGenerateOptions({ stop: 'END' }, false).stop).toEqual(['END']);
    expect(resolveGenerateOptions({ stop: ['a', 'bc'] }, false).stop).toEqual(['a', 'bc']);
    expect(resolveGenerateOptions({}, false).stop).toEqual([]);
  });
});

describe('TimingRecorder', () => {
  it('derives TTFT, prefill and decode rates from the timestamps', () => {
    const times = [1000, 1010, 1110, 1110, 1210, 1310, 1400];
    let i = 0;
    const r = new TimingRecorder(() => times[i++]!);
    r.addImageEncode(5);
    r.prefillStarted(); // 1010
    r.prefillDone(50); // 1110: 50 tokens in 0.1 s
    r.tokenGenerated(); // 1110: first token 110 ms after start
    r.tokenGenerated(); // 1210
    r.tokenGenerated(); // 1310: 2 more tokens in 0.2 s
    const t = r.finish(); // 1400
    expect(t.imageEncodeMs).toBe(5);
    expect(t.prefillTokensPerSecond).toBeCloseTo(500, 9);
    expect(t.timeToFirstTokenMs).toBe(110);
    expect(t.decodeTokensPerSecond).toBeCloseTo(10, 9);
    expect(t.totalMs).toBe(400);
  });

  it('reports zero rates when nothing was generated', () => {
    const t = new TimingRecorder(() => 0).finish();
    expect(t).toMatchObject({ decodeTokensPerSecond: 0, prefillTokensPerSecond: 0, timeToFirstTokenMs: 0 });
  });
});
