import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../testing/random.ts';
import type { AnswerEvent, ReasoningEvent } from './events.ts';
import { StopStringMatcher, StopStringText, type TextEvents } from './stop.ts';

/** Feeds pieces one at a time; returns what came out and whether the matcher stopped. */
function run(stops: string[], pieces: string[]): { out: string; stopped: boolean; at: number } {
  const m = new StopStringMatcher(stops);
  let out = '';
  let at = -1;
  pieces.forEach((p, i) => {
    out += m.push(p);
    if (m.stopped && at < 0) at = i;
  });
  out += m.flush();
  return { out, stopped: m.stopped, at };
}

describe('StopStringMatcher', () => {
  it('cuts before the stop string and never emits it', () => {
    expect(run(['END'], ['Hello ', 'world', 'END', 'more'])).toEqual({
      out: 'Hello world',
      stopped: true,
      at: 2,
    });
  });

  it('finds a stop string spread over several pieces (and starting mid-piece)', () => {
    expect(run(['\n\n'], ['one\n', '\ntwo'])).toEqual({ out: 'one', stopped: true, at: 1 });
    expect(run(['STOP'], ['xS', 'T', 'O', 'Py'])).toEqual({ out: 'x', stopped: true, at: 3 });
  });

  it('holds back a possible prefix, and releases it when it turns out not to be one', () => {
    const m = new StopStringMatcher(['</answer>']);
    expect(m.push('42 </ans')).toBe('42 ');
    expect(m.push('wer-not')).toBe('</answer-not');
    expect(m.push(' <')).toBe(' ');
    expect(m.flush()).toBe('<'); // the stream ended: held text comes out
    expect(m.stopped).toBe(false);
  });

  it('with several stops, the earliest match wins', () => {
    expect(run(['bb', 'a'], ['xbba'])).toMatchObject({ out: 'x', stopped: true });
    expect(run(['cd', 'bcd'], ['abcde'])).toMatchObject({ out: 'a', stopped: true });
  });

  it('no stops: everything passes through at once', () => {
    const m = new StopStringMatcher([]);
    expect(m.push('abc')).toBe('abc');
    expect(m.flush()).toBe('');
  });

  it('random streams: output = text before the first stop, for every way of cutting it (seeded)', () => {
    const r = mulberry32(7);
    const alphabet = 'ab\n';
    for (let t = 0; t < 500; t++) {
      const text = Array.from({ length: 1 + Math.floor(r() * 30) }, () => alphabet[Math.floor(r() * 3)]).join(
        '',
      );
      const stops = Array.from({ length: 1 + Math.floor(r() * 3) }, () =>
        Array.from({ length: 1 + Math.floor(r() * 4) }, () => alphabet[Math.floor(r() * 3)]).join(''),
      );
      const pieces: string[] = [];
      for (let i = 0; i < text.length; ) {
        const n = 1 + Math.floor(r() * 4);
        pieces.push(text.slice(i, i + n));
        i += n;
      }
      const first = Math.min(...stops.map((s) => text.indexOf(s)).filter((i) => i >= 0));
      const want = Number.isFinite(first) ? text.slice(0, first) : text;
      expect(run(stops, pieces).out, `text ${JSON.stringify(text)} stops ${JSON.stringify(stops)}`).toBe(
        want,
      );
    }
  });
});

/** A fake TextEventStream: each id is one scripted event. */
function scripted(events: Array<AnswerEvent | ReasoningEvent>): TextEvents {
  let i = 0;
  const s = {
    channel: 'answer' as const,
    answer: events.flatMap((e) => (e.type === 'answer' ? [e.text] : [])).join(''),
    reasoning: events.flatMap((e) => (e.type === 'reasoning' ? [e.text] : [])).join(''),
    push: () => [events[i++]!],
    flush: () => [],
  };
  return s;
}

describe('StopStringText', () => {
  it('cuts the answer, keeps the reasoning unsearched, and reports stopped', () => {
    const t = new StopStringText(
      scripted([
        { type: 'reasoning', text: 'think STOP here' },
        { type: 'answer', text: 'The answer' },
        { type: 'answer', text: ' is 4.ST' },
        { type: 'answer', text: 'OP and more' },
      ]),
      ['STOP'],
    );
    const out = [0, 1, 2, 3].flatMap((id) => t.push(id));
    expect(out).toEqual([
      { type: 'reasoning', text: 'think STOP here' },
      { type: 'answer', text: 'The answer' },
      { type: 'answer', text: ' is 4.' },
    ]);
    expect(t.stopped).toBe(true);
    expect(t.answer).toBe('The answer is 4.');
    expect(t.reasoning).toBe('think STOP here');
    expect(t.flush()).toEqual([]);
  });

  it('without a match, flush releases the held tail', () => {
    const t = new StopStringText(scripted([{ type: 'answer', text: 'abc ST' }]), ['STOP']);
    expect(t.push(0)).toEqual([{ type: 'answer', text: 'abc ' }]);
    expect(t.flush()).toEqual([{ type: 'answer', text: 'ST' }]);
    expect(t.answer).toBe('abc ST');
    expect(t.stopped).toBe(false);
  });
});
