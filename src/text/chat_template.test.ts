import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/config.ts';
import { joinPath } from '../golden/case.ts';
import { GOLDEN_ROOT } from '../golden/location.ts';
import { discoverCases, nodeGoldenIO } from '../golden/node_io.ts';
import { readCases, readJson } from '../golden/reader.ts';
import {
  buildPromptIds,
  type ChatMessage,
  countImages,
  expandImagePlaceholders,
  type ImageGrid,
  renderChatTemplate,
  stopTokenIds,
} from './chat_template.ts';
import { loadTokenizer, TEST_VOCAB_DIR, tinyTokenizerDir } from './fixtures/node_helpers.ts';

// The golden cases (through the one golden reader) with their model's vocabulary size: a case whose size
// we ship no tiny tokenizer for (a hidden-suite size) is listed as skipped.
const goldenCases = await Promise.all(
  (await readCases(nodeGoldenIO, discoverCases(GOLDEN_ROOT))).map(async (c) => {
    const config = parseConfig(await readJson(nodeGoldenIO, joinPath(c.modelDir, 'config.json')));
    return { c, vocab: config.text.vocabSize };
  }),
);

const GEN = { addGenerationPrompt: true };
const NO_GEN = { addGenerationPrompt: false };
const IMG = '<|media_start|>image<|media_content|><|media_pad|><|media_end|>';

describe('renderChatTemplate (official chat_template.jinja)', () => {
  it('spec example: one user message, image then text, generation prompt', () => {
    const messages: ChatMessage[] = [
      {
        role: 'user',
        content: [
          { type: 'image', image: 'cat.png' },
          { type: 'text', text: 'What is this?' },
        ],
      },
    ];
    expect(renderChatTemplate(messages, GEN)).toBe(
      '<|im_system|>system<|im_middle|>You are a helpful assistant<|im_end|><|im_user|>user<|im_middle|><|media_start|>image<|media_content|><|media_pad|><|media_end|>What is this?<|im_end|><|im_assistant|>assistant<|im_middle|>',
    );
  });

  it('spec example: explicit system and history', () => {
    const messages: ChatMessage[] = [
      { role: 'system', content: 'SYS' },
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: 'hello' },
      { role: 'user', content: 'more' },
    ];
    expect(renderChatTemplate(messages, GEN)).toBe(
      '<|im_system|>system<|im_middle|>SYS<|im_end|><|im_user|>user<|im_middle|>hi<|im_end|><|im_assistant|>assistant<|im_middle|>hello<|im_end|><|im_user|>user<|im_middle|>more<|im_end|><|im_assistant|>assistant<|im_middle|>',
    );
  });

  it('without the generation prompt the text ends at the last <|im_end|>', () => {
    expect(renderChatTemplate([{ role: 'user', content: 'q' }], NO_GEN)).toBe(
      '<|im_system|>system<|im_middle|>You are a helpful assistant<|im_end|><|im_user|>user<|im_middle|>q<|im_end|>',
    );
  });

  it('several images in content order, text between and after them, over several turns', () => {
    const messages: ChatMessage[] = [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Compare ' },
          { type: 'image' },
          { type: 'text', text: ' and ' },
          { type: 'image' },
        ],
      },
      { role: 'assistant', content: [{ type: 'text', text: 'The first is red.' }] },
      { role: 'user', content: [{ type: 'image' }, { type: 'text', text: 'And this?' }, { type: 'image' }] },
    ];
    expect(countImages(messages)).toBe(4);
    expect(renderChatTemplate(messages, GEN)).toBe(
      '<|im_system|>system<|im_middle|>You are a helpful assistant<|im_end|>' +
        `<|im_user|>user<|im_middle|>Compare ${IMG} and ${IMG}<|im_end|>` +
        '<|im_assistant|>assistant<|im_middle|>The first is red.<|im_end|>' +
        `<|im_user|>user<|im_middle|>${IMG}And this?${IMG}<|im_end|>` +
        '<|im_assistant|>assistant<|im_middle|>',
    );
  });

  it('the default system prompt goes first whenever the first message is not a system message', () => {
    const messages: ChatMessage[] = [
      { role: 'assistant', content: 'Hi! ◁think▷kept verbatim◁/think▷' },
      { role: 'system', content: 'late system' },
      { role: 'user', content: [] },
    ];
    expect(renderChatTemplate(messages, NO_GEN)).toBe(
      '<|im_system|>system<|im_middle|>You are a helpful assistant<|im_end|>' +
        '<|im_assistant|>assistant<|im_middle|>Hi! ◁think▷kept verbatim◁/think▷<|im_end|>' +
        '<|im_system|>system<|im_middle|>late system<|im_end|>' +
        '<|im_user|>user<|im_middle|><|im_end|>',
    );
  });

  it("a part with an 'image' or 'image_url' key counts as an image, as in the template", () => {
    const parts = [
      { type: 'text', text: 'a', image: 'x' },
      { type: 'image_url', image_url: 'u' },
    ] as never;
    expect(renderChatTemplate([{ role: 'system', content: parts }], NO_GEN)).toBe(
      `<|im_system|>system<|im_middle|>${IMG}${IMG}<|im_end|>`,
    );
  });

  it('empty message list renders nothing but the optional generation prompt', () => {
    expect(renderChatTemplate([], NO_GEN)).toBe('');
    expect(renderChatTemplate([], GEN)).toBe('<|im_assistant|>assistant<|im_middle|>');
  });
});

describe('placeholder expansion and prompt ids', () => {
  const tok = loadTokenizer(TEST_VOCAB_DIR);
  const id = (name: string) => tok.specialTokenId(name);

  it('stop ids are <|im_end|> and [EOS] (real layout: base + 2, base + 1)', () => {
    expect(stopTokenIds(tok)).toEqual([tok.numBaseTokens + 2, tok.numBaseTokens + 1]);
  });

  it('expands the k-th pad to h·w/4 copies, images in order', () => {
    const P = 9;
    expect(
      expandImagePlaceholders([1, P, 2, P, 3], P, [
        [4, 6],
        [2, 2],
      ]),
    ).toEqual([1, P, P, P, P, P, P, 2, P, 3]);
    expect(() => expandImagePlaceholders([1, P], P, [])).toThrow(/1 image placeholder\(s\) but 0/);
    expect(() => expandImagePlaceholders([1], P, [[2, 2]])).toThrow(/0 image placeholder\(s\) but 1/);
  });

  it('buildPromptIds = encode(rendered) with each image block expanded', () => {
    const messages: ChatMessage[] = [
      {
        role: 'user',
        content: [{ type: 'image' }, { type: 'text', text: 'What is this?' }, { type: 'image' }],
      },
    ];
    const grids: ImageGrid[] = [
      [6, 4],
      [8, 10],
    ];
    const ids = buildPromptIds(tok, messages, grids);
    const pad = id('<|media_pad|>');
    const imageBlock = (n: number) => [
      id('<|media_start|>'),
      ...tok.encode('image'),
      id('<|media_content|>'),
      ...Array(n).fill(pad),
      id('<|media_end|>'),
    ];
    expect(ids).toEqual([
      id('<|im_system|>'),
      ...tok.encode('system'),
      id('<|im_middle|>'),
      ...tok.encode('You are a helpful assistant'),
      id('<|im_end|>'),
      id('<|im_user|>'),
      ...tok.encode('user'),
      id('<|im_middle|>'),
      ...imageBlock(6),
      ...tok.encode('What is this?'),
      ...imageBlock(20),
      id('<|im_end|>'),
      id('<|im_assistant|>'),
      ...tok.encode('assistant'),
      id('<|im_middle|>'),
    ]);
    const counts = [6, 20];
    let k = 0;
    expect(tok.decode(ids)).toBe(
      renderChatTemplate(messages, GEN).replace(/<\|media_pad\|>/g, (m) => m.repeat(counts[k++]!)),
    );
  });

  // The golden cases were built with the template's shape and arbitrary word ids; their special
  // tokens, in order with the pad runs, must be what our template and tiny tokenizers produce.
  for (const { c, vocab } of goldenCases) {
    const noTokenizer = !existsSync(tinyTokenizerDir(vocab));
    const title = `golden case ${c.name} has our special-token skeleton`;
    it.skipIf(noTokenizer)(
      noTokenizer ? `${title} (skipped: no tiny tokenizer for vocab ${vocab})` : title,
      () => {
        const tiny = loadTokenizer(tinyTokenizerDir(vocab));
        expect(tiny.specialTokenId('<|media_pad|>')).toBe(c.placeholderId);
        const skeleton = (ids: number[]) => ids.filter((i) => tiny.isSpecial(i)).map((i) => tiny.decode([i]));
        const content: ChatMessage['content'] = [{ type: 'text', text: 'Look:' }];
        for (const _ of c.grids) content.push({ type: 'image' }, { type: 'text', text: ' then' });
        const ours = buildPromptIds(
          tiny,
          [{ role: 'user', content }],
          c.grids.map((g): ImageGrid => [g.h, g.w]),
        );
        expect(skeleton(ours)).toEqual(skeleton(c.inputIds));
      },
    );
  }
});
