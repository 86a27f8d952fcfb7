// The public API through the Web Worker on WebGPU: the streamed tokens equal the golden greedy tokens
// of a golden case, requests queue, AbortSignal stops within one token, the OpenAI facade streams,
// unload frees, device loss is a typed error and a fresh load recovers.
import { join } from 'node:path';
import { expect, type Page, test } from '@playwright/test';
import { nodeGoldenIO } from '../src/golden/node_io.ts';
import { readCase } from '../src/golden/reader.ts';
import { SHARED_DIR } from './support/env.ts';

/** The golden case the worker must reproduce, read by the one golden reader (src/golden/). */
const GOLDEN_CASE = join(SHARED_DIR, 'golden/cases/a-text-only');

type Win = { KimiVL: typeof import('../src/index.ts').KimiVL };

async function open(page: Page): Promise<void> {
  await page.goto('/e2e/pages/api-test.html');
  await page.waitForFunction(() => 'KimiVL' in globalThis);
}

test('worker: golden greedy tokens, queueing, abort, OpenAI chunks, device loss, unload', async ({
  page,
}) => {
  test.setTimeout(180_000);
  const golden = await readCase(nodeGoldenIO, GOLDEN_CASE);
  await open(page);
  const r = await page.evaluate(
    async ({ ids, n }) => {
      const { KimiVL } = globalThis as unknown as Win;
      // autoRecover off: step 4 checks the typed error (recovery is e2e/attack-lifecycle.spec.ts's).
      const engine = await KimiVL.load('/models/kimi-vl-tiny/', { contextBudget: 256, autoRecover: false });
      const out: Record<string, unknown> = { mode: engine.mode, info: engine.info };
      // 1. Golden: a-text-only's prompt ids, greedy, 8 tokens, no stop.
      const tokens: number[] = [];
      for await (const e of engine.generateFromIds(ids, {
        temperature: 0,
        maxTokens: n,
        tokenEvents: true,
        ignoreStop: true,
      }))
        if (e.type === 'token') tokens.push(e.id);
      out.tokens = tokens;
      // 2. Two chats at once: queued, not interleaved; the first aborted after 2 tokens.
      const order: string[] = [];
      const ac = new AbortController();
      const run = async (name: string, signal?: AbortSignal) => {
        let count = 0;
        for await (const e of engine.chat([{ role: 'user', content: name }], {
          temperature: 0,
          maxTokens: 30,
          ignoreStop: true,
          tokenEvents: true,
          signal,
        })) {
          order.push(`${name}:${e.type}`);
          if (e.type === 'token' && ++count === 2 && signal) ac.abort();
          if (e.type === 'done') return e;
        }
      };
      const [a, b] = await Promise.all([run('a', ac.signal), run('b')]);
      out.aborted = { finish: a?.finishReason, completion: a?.usage.completionTokens };
      out.queued = { finish: b?.finishReason, completion: b?.usage.completionTokens };
      const firstB = order.findIndex((s) => s.startsWith('b:'));
      out.interleaved = order.slice(firstB).some((s) => s.startsWith('a:'));
      // 3. OpenAI facade.
      const chunks: unknown[] = [];
      for await (const c of await engine.chat.completions.create({
        messages: [{ role: 'user', content: 'hi' }],
        stream: true,
        stream_options: { include_usage: true },
        max_tokens: 3,
        temperature: 0,
      }))
        chunks.push(c);
      out.chunks = chunks;
      // 4. Device loss → typed error; a fresh load recovers.
      await engine.loseDeviceForTest();
      out.lost = await engine.chat([{ role: 'user', content: 'x' }], { maxTokens: 2 }).result.then(
        () => 'no error',
        (e: Error) => e.name,
      );
      engine.terminate();
      const again = await KimiVL.load('/models/kimi-vl-tiny/', { contextBudget: 256 });
      const t2: number[] = [];
      for await (const e of again.generateFromIds(ids, {
        temperature: 0,
        maxTokens: 2,
        tokenEvents: true,
        ignoreStop: true,
      }))
        if (e.type === 'token') t2.push(e.id);
      out.recovered = t2;
      await again.unload();
      return out;
    },
    { ids: golden.inputIds, n: golden.expected.newTokens.length },
  );

  expect(r.mode).toBe('worker');
  expect(r.info).toMatchObject({ backend: 'gpu', hasTokenizer: true });
  expect(r.tokens).toEqual(golden.expected.newTokens);
  expect(r.aborted).toEqual({ finish: 'abort', completion: 2 });
  expect(r.queued).toEqual({ finish: 'length', completion: 30 });
  expect(r.interleaved).toBe(false);
  const chunks = r.chunks as Array<{
    object: string;
    choices: Array<{ finish_reason: string | null }>;
    usage?: unknown;
  }>;
  expect(chunks.every((c) => c.object === 'chat.completion.chunk')).toBe(true);
  // OpenAI's shape: the finishing chunk, then (include_usage) one chunk with the usage and no choices.
  expect(chunks.at(-2)!.choices[0]!.finish_reason).toMatch(/stop|length/);
  expect(chunks.at(-1)!.choices).toEqual([]);
  expect(chunks.at(-1)!.usage).toBeTruthy();
  expect(r.lost).toBe('DeviceLostError');
  expect(r.recovered).toEqual(golden.expected.newTokens.slice(0, 2));
});
