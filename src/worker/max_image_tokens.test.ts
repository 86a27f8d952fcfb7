// maxImageTokens through the engine (in-thread, reference backend, bundled tiny model): the option reaches
// the preprocessor, so the prompt carries at most that many image tokens.
import { readdirSync, readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import type { ChatEvent } from '../generate/events.ts';
import { GOLDEN_ROOT } from '../golden/location.ts';
import { nodeGoldenIO } from '../golden/node_io.ts';
import { readCase } from '../golden/reader.ts';
import { Engine } from './engine.ts';

const MODEL = new URL('../../public/models/kimi-vl-tiny/', import.meta.url).pathname;

it('maxImageTokens lowers the image tokens of a chat prompt to the budget', async () => {
  const engine = new Engine();
  const files = readdirSync(MODEL)
    .filter((n) => n !== 'README.md')
    .map((n) => new File([readFileSync(MODEL + n)], n));
  await engine.load(1, { files }, { backend: 'ref', contextBudget: 256 });
  const c = await readCase(nodeGoldenIO, `${GOLDEN_ROOT}/cases/a-one-image`);
  const png = readFileSync(c.images[0]!);
  const { h, w } = c.grids[0]!;
  const full = (h * w) / 4;
  const prompt = async (id: number, maxImageTokens?: number) => {
    const events: ChatEvent[] = [];
    const content = [
      { type: 'image' as const, image: new Uint8Array(png) },
      { type: 'text' as const, text: 'what' },
    ];
    await engine.chat(
      id,
      [{ role: 'user', content }],
      { temperature: 0, maxTokens: 1, maxImageTokens },
      (e) => {
        events.push(e);
      },
    );
    const done = events.at(-1)!;
    if (done.type !== 'done') throw new Error('no done event');
    return done.usage.promptTokens;
  };
  const plain = await prompt(2);
  const budget = Math.max(1, Math.floor(full / 3));
  const small = await prompt(3, budget);
  expect(full).toBeGreaterThan(budget);
  expect(plain - small).toBeGreaterThanOrEqual(full - budget); // the image rows shrank to ≤ budget
  await engine.unload();
});
