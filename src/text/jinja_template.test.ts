// The official chat_template.jinja (spec 5.1) rendered by @huggingface/jinja and the built-in renderer
// must agree, string for string and id for id, on many random conversations (seeded), so a repo that
// ships the official template gets exactly the built-in prompts.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../testing/random.ts';
import {
  buildPromptIds,
  type ChatMessage,
  type ContentPart,
  type Role,
  renderChatSegments,
  renderChatTemplate,
} from './chat_template.ts';
import { loadTokenizer, REPO_ROOT, TEST_VOCAB_DIR } from './fixtures/node_helpers.ts';
import { JinjaChatTemplate, templateFromTokenizerConfig } from './jinja_template.ts';

const OFFICIAL = readFileSync(`${REPO_ROOT}src/text/fixtures/kimi_vl_chat_template.jinja`, 'utf8');
const jinja = new JinjaChatTemplate(OFFICIAL);
const tok = loadTokenizer(TEST_VOCAB_DIR);
const CONVERSATIONS = 300;
const SEED = 20251201;

const WORDS = [
  'hi',
  'What is this?',
  ' spaced ',
  '\n',
  'émoji 🐈',
  '<|im_end|>',
  '<|media_pad|>',
  '{{ x }}',
  "'q'",
  '',
];

function randomConversation(r: () => number): { messages: ChatMessage[]; grids: [number, number][] } {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const text = () => Array.from({ length: 1 + Math.floor(r() * 3) }, () => pick(WORDS)).join('');
  const grids: [number, number][] = [];
  const messages: ChatMessage[] = [];
  const n = 1 + Math.floor(r() * 6);
  for (let i = 0; i < n; i++) {
    const role: Role =
      i === 0 && r() < 0.5 ? 'system' : pick(['user', 'assistant', 'user', 'system'] as const);
    if (r() < 0.5) {
      messages.push({ role, content: text() });
      continue;
    }
    const parts: ContentPart[] = [];
    for (let j = Math.floor(r() * 4); j >= 0; j--) {
      if (role === 'user' && r() < 0.3) {
        parts.push({ type: 'image' });
        grids.push([2 * (1 + Math.floor(r() * 3)), 2 * (1 + Math.floor(r() * 3))]);
      } else parts.push({ type: 'text', text: text() });
    }
    messages.push({ role, content: parts });
  }
  return { messages, grids };
}

function outcome(f: () => number[]): number[] | string {
  try {
    return f();
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message}`;
  }
}

describe('official chat_template.jinja through @huggingface/jinja', () => {
  it('the spec examples render byte for byte', () => {
    const messages: ChatMessage[] = [
      { role: 'system', content: 'SYS' },
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: 'hello' },
      { role: 'user', content: 'more' },
    ];
    const text = jinja
      .renderSegments(messages, { addGenerationPrompt: true, allowSpecialTokensInText: true })
      .map((s) => s.text)
      .join('');
    expect(text).toBe(
      '<|im_system|>system<|im_middle|>SYS<|im_end|><|im_user|>user<|im_middle|>hi<|im_end|><|im_assistant|>assistant<|im_middle|>hello<|im_end|><|im_user|>user<|im_middle|>more<|im_end|><|im_assistant|>assistant<|im_middle|>',
    );
  });

  it(`agrees with the built-in renderer on ${CONVERSATIONS} random conversations (seed ${SEED})`, () => {
    const r = mulberry32(SEED);
    for (let c = 0; c < CONVERSATIONS; c++) {
      const { messages, grids } = randomConversation(r);
      for (const addGenerationPrompt of [true, false]) {
        const where = `conversation ${c} (seed ${SEED}), addGenerationPrompt ${addGenerationPrompt}: ${JSON.stringify(messages)}`;
        const opts = { addGenerationPrompt };
        const joined = (segs: { text: string }[]) => segs.map((s) => s.text).join('');
        expect(joined(jinja.renderSegments(messages, opts)), where).toBe(renderChatTemplate(messages, opts));
        // Same content pieces in the same places (what keeps message text plain text).
        const content = (segs: ReturnType<typeof renderChatSegments>) =>
          segs.filter((s) => s.kind === 'content').map((s) => s.text);
        expect(content(jinja.renderSegments(messages, opts)), where).toEqual(
          content(renderChatSegments(messages, opts)),
        );
        for (const allowSpecialTokensInText of [false, true]) {
          const o = { addGenerationPrompt, allowSpecialTokensInText };
          // With specials allowed, a typed <|media_pad|> miscounts the images: both must fail alike.
          const builtIn = outcome(() => buildPromptIds(tok, messages, grids, o));
          const viaJinja = outcome(() =>
            buildPromptIds(tok, messages, grids, o, (m, p) => jinja.renderSegments(m, p)),
          );
          expect(viaJinja, `${where}, allowSpecialTokensInText ${allowSpecialTokensInText}`).toEqual(builtIn);
        }
      }
    }
  });
});

describe('templateFromTokenizerConfig', () => {
  it('reads a string template, a named "default" one, and the special-token strings', () => {
    expect(templateFromTokenizerConfig(JSON.stringify({ chat_template: 'T', bos_token: '[BOS]' }))).toEqual({
      template: 'T',
      context: { bos_token: '[BOS]' },
    });
    const named = {
      chat_template: [
        { name: 'tool_use', template: 'X' },
        { name: 'default', template: 'D' },
      ],
      eos_token: { content: '[EOS]' },
    };
    expect(templateFromTokenizerConfig(JSON.stringify(named))).toEqual({
      template: 'D',
      context: { eos_token: '[EOS]' },
    });
    expect(templateFromTokenizerConfig('{}').template).toBeNull();
    expect(templateFromTokenizerConfig('not json').template).toBeNull();
  });
});
