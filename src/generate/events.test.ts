import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { StreamingDetokenizer } from '../text/detokenizer.ts';
import { ThinkingSplitter } from '../text/thinking.ts';
import { Tokenizer } from '../text/tokenizer.ts';
import { TextEventStream } from './events.ts';

const dir = new URL('../../public/models/kimi-vl-tiny/', import.meta.url).pathname;
const tok = Tokenizer.fromFiles(
  readFileSync(`${dir}tiktoken.model`, 'utf8'),
  readFileSync(`${dir}tokenizer_config.json`, 'utf8'),
);

function run(text: string, thinking: boolean, startInReasoning = false) {
  const s = new TextEventStream(
    new StreamingDetokenizer(tok, { skipSpecialTokens: true }),
    new ThinkingSplitter({ thinking, startInReasoning }),
  );
  const events = tok.encode(text).flatMap((id) => s.push(id));
  events.push(...s.flush());
  return { events, s };
}

describe('TextEventStream', () => {
  it('splits reasoning and answer across byte-level tokens (markers are multi-byte, multi-token)', () => {
    const { events, s } = run('◁think▷why not◁/think▷Because é!', true);
    expect(s.reasoning).toBe('why not');
    expect(s.answer).toBe('Because é!');
    const reasoning = events
      .filter((e) => e.type === 'reasoning')
      .map((e) => e.text)
      .join('');
    const answer = events
      .filter((e) => e.type === 'answer')
      .map((e) => e.text)
      .join('');
    expect([reasoning, answer]).toEqual(['why not', 'Because é!']);
    // every reasoning event comes before every answer event
    const kinds = events.map((e) => e.type);
    expect(kinds.lastIndexOf('reasoning')).toBeLessThan(kinds.indexOf('answer'));
    expect(events.every((e) => e.text.length > 0)).toBe(true);
  });

  it('Instruct models: everything is answer, markers included', () => {
    const { s } = run('◁think▷a◁/think▷b', false);
    expect(s.answer).toBe('◁think▷a◁/think▷b');
    expect(s.reasoning).toBe('');
  });

  it('startInReasoning: text before the end marker is reasoning; special ids are dropped', () => {
    const { s } = run('plan<|im_end|>◁/think▷done', true, true);
    expect(s.reasoning).toBe('plan');
    expect(s.answer).toBe('done');
    expect(s.channel).toBe('answer');
  });
});
