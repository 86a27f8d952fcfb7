// The Engine in-thread on the CPU reference backend with the bundled tiny model: golden greedy tokens
// through generateFromIds, chat events, queueing, cancellation, conversation reuse, unload.
import { readdirSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ChatEvent } from '../generate/events.ts';
import { GOLDEN_ROOT } from '../golden/location.ts';
import { nodeGoldenIO } from '../golden/node_io.ts';
import { readCase } from '../golden/reader.ts';
import { IMAGE_PLACEHOLDER } from '../text/chat_template.ts';
import { Tokenizer } from '../text/tokenizer.ts';
import { Engine } from './engine.ts';

const MODEL = new URL('../../public/models/kimi-vl-tiny/', import.meta.url).pathname;
const golden = await readCase(nodeGoldenIO, `${GOLDEN_ROOT}/cases/a-text-only`);

function modelFiles(): File[] {
  return readdirSync(MODEL)
    .filter((n) => n !== 'README.md')
    .map((n) => new File([readFileSync(MODEL + n)], n));
}

const engine = new Engine();
let nextId = 1;

async function collect(
  run: (id: number, on: (e: ChatEvent) => void) => Promise<unknown>,
): Promise<ChatEvent[]> {
  const events: ChatEvent[] = [];
  await run(nextId++, (e) => void events.push(e));
  return events;
}

beforeAll(async () => {
  const info = await engine.load(nextId++, { files: modelFiles() }, { backend: 'ref', contextBudget: 256 });
  expect(info).toMatchObject({ hasTokenizer: true, acceptsImages: true, layers: 3, thinking: false });
});

describe('Engine (in-thread, reference backend)', () => {
  it('generateFromIds streams the golden greedy tokens', async () => {
    engine.resetConversation();
    const events = await collect((id, on) =>
      engine.generateFromIds(
        id,
        golden.inputIds,
        { temperature: 0, maxTokens: 8, tokenEvents: true, ignoreStop: true },
        on,
      ),
    );
    const ids = events.flatMap((e) => (e.type === 'token' ? [e.id] : []));
    expect(ids).toEqual(golden.expected.newTokens);
    const done = events.at(-1)!;
    expect(done).toMatchObject({ type: 'done', finishReason: 'length', usage: { completionTokens: 8 } });
  });

  it('chat streams answer deltas that add up to the final answer', async () => {
    engine.resetConversation();
    const events = await collect((id, on) =>
      engine.chat(id, [{ role: 'user', content: 'hello there' }], { temperature: 0, maxTokens: 6 }, on),
    );
    const done = events.at(-1)!;
    expect(done.type).toBe('done');
    if (done.type !== 'done') return;
    const text = events.flatMap((e) => (e.type === 'answer' ? [e.text] : [])).join('');
    expect(text).toBe(done.answer);
    expect(done.usage.promptTokens).toBeGreaterThan(5);
    expect(done.timings.timeToFirstTokenMs).toBeGreaterThan(0);
  });

  it('a second turn reuses the first turn from the KV cache', async () => {
    engine.resetConversation();
    const first: ChatEvent[] = await collect((id, on) =>
      engine.chat(id, [{ role: 'user', content: 'hello' }], { temperature: 0, maxTokens: 3 }, on),
    );
    const d1 = first.at(-1)!;
    if (d1.type !== 'done') throw new Error('no done');
    const second = await collect((id, on) =>
      engine.chat(
        id,
        [
          { role: 'user', content: 'hello' },
          { role: 'assistant', content: d1.answer },
          { role: 'user', content: 'again' },
        ],
        { temperature: 0, maxTokens: 3 },
        on,
      ),
    );
    const d2 = second.at(-1)!;
    if (d2.type !== 'done') throw new Error('no done');
    expect(d2.usage.cachedPromptTokens).toBeGreaterThanOrEqual(d1.usage.promptTokens);
  });

  it('cancel stops a running request within one token; queued requests run after', async () => {
    engine.resetConversation();
    const a: ChatEvent[] = [];
    const aId = nextId++;
    const pa = engine.generateFromIds(
      aId,
      golden.inputIds,
      { temperature: 0, maxTokens: 50, tokenEvents: true, ignoreStop: true },
      (e) => {
        a.push(e);
        if (e.type === 'token' && a.filter((x) => x.type === 'token').length === 2) engine.cancel(aId);
      },
    );
    const b: ChatEvent[] = [];
    const pb = engine.generateFromIds(
      nextId++,
      golden.inputIds,
      { temperature: 0, maxTokens: 2, tokenEvents: true, ignoreStop: true },
      (e) => void b.push(e),
    );
    const [da, db] = await Promise.all([pa, pb]);
    expect(da.finishReason).toBe('abort');
    expect(da.usage.completionTokens).toBe(2);
    expect(db.finishReason).toBe('length');
    // b started after a finished: its first event comes after a's done
    expect(b.filter((e) => e.type === 'token').map((e) => (e as { id: number }).id)).toEqual(
      golden.expected.newTokens.slice(0, 2),
    );
  });

  it('chat with an image: decoded and encoded in the engine, placeholders expanded', async () => {
    engine.resetConversation();
    const c = await readCase(nodeGoldenIO, `${GOLDEN_ROOT}/cases/a-one-image`);
    const png = readFileSync(c.images[0]!);
    const text = await collect((id, on) =>
      engine.chat(id, [{ role: 'user', content: 'what' }], { temperature: 0, maxTokens: 1 }, on),
    );
    const withImage = await collect((id, on) =>
      engine.chat(
        id,
        [
          {
            role: 'user',
            content: [
              { type: 'image', image: new Uint8Array(png) },
              { type: 'text', text: 'what' },
            ],
          },
        ],
        { temperature: 0, maxTokens: 2 },
        on,
      ),
    );
    const { h, w } = c.grids[0]!;
    const d0 = text.at(-1)!;
    const d1 = withImage.at(-1)!;
    if (d0.type !== 'done' || d1.type !== 'done') throw new Error('no done');
    // <|media_start|>image<|media_content|> + (h·w/4)·<|media_pad|> + <|media_end|>
    const extra = d1.usage.promptTokens - d0.usage.promptTokens;
    const tok = Tokenizer.fromFiles(
      readFileSync(`${MODEL}tiktoken.model`, 'utf8'),
      readFileSync(`${MODEL}tokenizer_config.json`, 'utf8'),
    );
    expect(extra).toBe(tok.encode(IMAGE_PLACEHOLDER).length - 1 + (h * w) / 4);
    expect(d1.timings.imageEncodeMs).toBeGreaterThan(0);

    // A follow-up about the same picture (new bytes object, same file): nothing decoded or encoded,
    // the cached prefix reaches past the image, and the answer equals a fresh conversation's.
    const followUp = (answer: string) => [
      {
        role: 'user' as const,
        content: [
          { type: 'image' as const, image: new Uint8Array(png) },
          { type: 'text' as const, text: 'what' },
        ],
      },
      { role: 'assistant' as const, content: answer },
      { role: 'user' as const, content: 'and then?' },
    ];
    const d2 = (
      await collect((id, on) => engine.chat(id, followUp(d1.answer), { temperature: 0, maxTokens: 2 }, on))
    ).at(-1)!;
    if (d2.type !== 'done') throw new Error('no done');
    expect(d2.timings.imageEncodeMs).toBe(0);
    expect(d2.usage.cachedPromptTokens).toBeGreaterThan((h * w) / 4);
    engine.resetConversation();
    const fresh = (
      await collect((id, on) => engine.chat(id, followUp(d1.answer), { temperature: 0, maxTokens: 2 }, on))
    ).at(-1)!;
    if (fresh.type !== 'done') throw new Error('no done');
    expect(fresh.usage.cachedPromptTokens).toBe(0);
    expect(d2.answer).toBe(fresh.answer);
  });

  it('thinking: startThinking + thinkingBudget give reasoning then answer', async () => {
    const e2 = new Engine();
    await e2.load(1, { files: modelFiles() }, { backend: 'ref', thinking: true, contextBudget: 256 });
    const events = await collect((id, on) =>
      e2.chat(
        id,
        [{ role: 'user', content: 'why?' }],
        { temperature: 0, maxTokens: 40, startThinking: true, thinkingBudget: 4, ignoreStop: true },
        on,
      ),
    );
    const kinds = events.map((e) => e.type).filter((t) => t !== 'done');
    const firstAnswer = kinds.indexOf('answer');
    expect(kinds[0]).toBe('reasoning');
    expect(firstAnswer).toBeGreaterThan(0);
    expect(kinds.slice(firstAnswer).every((k) => k === 'answer')).toBe(true);
    await e2.unload();
  });

  it('bad input is a typed error and leaves the engine ready', async () => {
    await expect(
      engine.chat(nextId++, [{ role: 'bot' as 'user', content: 'x' }], {}, () => {}),
    ).rejects.toMatchObject({ name: 'ConfigError' });
    await expect(
      engine.chat(
        nextId++,
        [{ role: 'user', content: [{ type: 'image', image: new Blob(['nope']) }] }],
        {},
        () => {},
      ),
    ).rejects.toMatchObject({ name: 'ImageError' });
    const done = await engine.generateFromIds(
      nextId++,
      [1, 2, 3],
      { maxTokens: 1, temperature: 0 },
      () => {},
    );
    expect(done.usage.completionTokens).toBeLessThanOrEqual(1);
  });

  it('unload frees the model; later requests say to load first', async () => {
    const e3 = new Engine();
    await e3.load(1, { files: modelFiles() }, { backend: 'ref' });
    await e3.unload();
    expect(e3.modelInfo()).toBeNull();
    await expect(e3.generateFromIds(2, [1], {}, () => {})).rejects.toMatchObject({
      name: 'EngineStateError',
    });
  });
});
