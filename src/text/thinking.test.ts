import { describe, expect, it } from 'vitest';
import { type ChannelDelta, splitThinking, THINK_END, THINK_START, ThinkingSplitter } from './thinking.ts';

function collect(deltas: string[], thinking = true, startInReasoning = false) {
  const s = new ThinkingSplitter({ thinking, startInReasoning });
  const parts: ChannelDelta[] = [];
  for (const d of deltas) parts.push(...s.push(d));
  parts.push(...s.flush());
  const join = (c: string) =>
    parts
      .filter((p) => p.channel === c)
      .map((p) => p.text)
      .join('');
  return { reasoning: join('reasoning'), answer: join('answer'), parts };
}

const CASES: Array<[string, string, string]> = [
  // text, expected reasoning, expected answer
  [`${THINK_START}The user wants a cat.${THINK_END}A cat.`, 'The user wants a cat.', 'A cat.'],
  [`${THINK_START}${THINK_END}empty reasoning`, '', 'empty reasoning'],
  [`${THINK_START}still thinking ◁th`, 'still thinking ◁th', ''],
  [
    `${THINK_START}a ◁/thin and ◁think▷ inside${THINK_END}after ${THINK_END} and ${THINK_START} stay`,
    'a ◁/thin and ◁think▷ inside',
    `after ${THINK_END} and ${THINK_START} stay`,
  ],
  ['no markers at all ◁', '', 'no markers at all ◁'],
  [`pre ${THINK_START}r${THINK_END}a`, 'r', 'pre a'],
  ['◁◁think▷r◁◁/think▷▷', 'r◁', '◁▷'],
];

describe('ThinkingSplitter', () => {
  it('splits whole texts', () => {
    for (const [text, reasoning, answer] of CASES) {
      expect(splitThinking(text)).toEqual({ reasoning, answer });
    }
  });

  it('gives the same channels for every way of cutting the text into three deltas', () => {
    for (const [text, reasoning, answer] of CASES) {
      for (let i = 0; i <= text.length; i++) {
        for (let j = i; j <= text.length; j++) {
          const got = collect([text.slice(0, i), text.slice(i, j), text.slice(j)]);
          expect({ reasoning: got.reasoning, answer: got.answer }, `cuts ${i},${j} of ${text}`).toEqual({
            reasoning,
            answer,
          });
        }
      }
    }
  });

  it('character by character, never emits part of a marker and emits text as soon as it is safe', () => {
    const text = `${THINK_START}ab◁c${THINK_END}xy`;
    const s = new ThinkingSplitter({ thinking: true });
    const seen: ChannelDelta[][] = [...text].map((ch) => s.push(ch));
    for (const deltas of seen) for (const d of deltas) expect(d.text).not.toMatch(/think/);
    // 'a' is emitted by the push that delivers it; '◁' waits for the next character.
    expect(seen[THINK_START.length]).toEqual([{ channel: 'reasoning', text: 'a' }]);
    expect(seen[THINK_START.length + 2]).toEqual([]);
    expect(seen[THINK_START.length + 3]).toEqual([{ channel: 'reasoning', text: '◁c' }]);
    expect(s.flush()).toEqual([]);
  });

  it('instruct mode passes everything through as answer', () => {
    const text = `${THINK_START}x${THINK_END}y`;
    expect(collect([text.slice(0, 3), text.slice(3)], false)).toMatchObject({ reasoning: '', answer: text });
  });

  it('startInReasoning begins inside the reasoning', () => {
    expect(collect(['r1 r2', THINK_END.slice(0, 4), `${THINK_END.slice(4)}ans`], true, true)).toMatchObject({
      reasoning: 'r1 r2',
      answer: 'ans',
    });
  });

  it('merges adjacent deltas of one channel within a push', () => {
    expect(new ThinkingSplitter({ thinking: true }).push(`${THINK_START}r${THINK_END}a`)).toEqual([
      { channel: 'reasoning', text: 'r' },
      { channel: 'answer', text: 'a' },
    ]);
  });
});
