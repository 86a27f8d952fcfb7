// Attack suite, lifecycle rows (issue 17): every public call settles — after unload, during unload,
// twice, in worker and in-thread mode alike — with a typed error name within a bound; unload cancels
// the running request within a token and the queued ones (AbortError); an abort during a long prefill
// lands within one prefill slice and the next turn reuses the slices; a GPU device loss mid-stream,
// mid-prefill or idle is recovered (autoRecover, greedy tokens equal an uninterrupted run's) or is a
// DeviceLostError (never AbortError). Plus the already-good abort and queue cases. Every row ends
// with a normal load + chat. Page: e2e/pages/lifecycle-test.ts (window.lifecycle).
import { join } from 'node:path';
import { expect, type Page, test } from '@playwright/test';
import { nodeGoldenIO } from '../src/golden/node_io.ts';
import { readCase } from '../src/golden/reader.ts';
import type { Lifecycle } from './pages/lifecycle-test.ts';
import { SHARED_DIR } from './support/env.ts';

type Win = { lifecycle: Lifecycle };
const GOLDEN_CASE = join(SHARED_DIR, 'golden/cases/a-text-only');
/** A call on a loaded or unloaded engine that does no model work must settle at once. */
const QUICK_MS = 2000;
/** unload() with a request to stop first: a token or a prefill slice, then freeing the device. */
const UNLOAD_MS = 5000;

async function open(page: Page): Promise<void> {
  await page.goto('/e2e/pages/lifecycle-test.html');
  await page.waitForFunction(() => 'lifecycle' in globalThis);
}

test.describe.configure({ timeout: 180_000 });

for (const mode of ['worker', 'main-thread'] as const) {
  test(`${mode}: after unload, during unload and unload twice, every call settles with a typed error`, async ({
    page,
  }) => {
    await open(page);
    const r = await page.evaluate(async (inThread) => {
      const { load, settle, healthy } = (globalThis as unknown as Win).lifecycle;
      const engine = await load({ inThread });
      const user = [{ role: 'user' as const, content: 'x' }];
      // During unload: calls made while it runs.
      const unloading = engine.unload();
      const during = {
        chat: await settle(engine.chat(user).result),
        reset: await settle(engine.resetConversation()),
      };
      const unload = await settle(unloading);
      const after = {
        chat: await settle(engine.chat(user).result),
        iterate: await settle(async () => {
          for await (const _ of engine.chat(user));
        }),
        generateFromIds: await settle(engine.generateFromIds([1, 2, 3]).result),
        resetConversation: await settle(engine.resetConversation()),
        adapterInfo: await settle(engine.adapterInfo()),
        create: await settle(engine.chat.completions.create({ messages: user })),
        createStream: await settle(engine.chat.completions.create({ messages: user, stream: true })),
        loseDevice: await settle(engine.loseDeviceForTest()),
        unloadAgain: await settle(engine.unload()),
        unloadTwice: await settle(Promise.all([engine.unload(), engine.unload()])),
      };
      return { mode: engine.mode, during, unload, after, healthy: await healthy({ inThread }) };
    }, mode === 'main-thread');

    expect(r.mode).toBe(mode);
    expect(r.unload.outcome).toBe('resolved');
    expect(r.unload.ms).toBeLessThan(UNLOAD_MS);
    for (const [name, s] of Object.entries(r.during)) {
      expect(s.outcome, `during unload: ${name}`).toBe('EngineStateError');
      expect(s.ms, name).toBeLessThan(QUICK_MS);
    }
    const want: Record<string, string> = { unloadAgain: 'resolved', unloadTwice: 'resolved' };
    for (const [name, s] of Object.entries(r.after)) {
      expect(s.outcome, `after unload: ${name} (${s.message ?? ''})`).toBe(want[name] ?? 'EngineStateError');
      expect(s.ms, name).toBeLessThan(QUICK_MS);
    }
    expect(r.healthy).toEqual({ mode, completion: 3, finish: 'length' });
  });

  test(`${mode}: unload while a 200-token chat streams cancels it within a token, queued ones AbortError`, async ({
    page,
  }) => {
    await open(page);
    const r = await page.evaluate(async (inThread) => {
      const { load, settle, healthy } = (globalThis as unknown as Win).lifecycle;
      const engine = await load({ inThread });
      const opts = { temperature: 0, maxTokens: 200, ignoreStop: true, tokenEvents: true } as const;
      const stream = engine.chat([{ role: 'user', content: 'tell me a long story' }], opts);
      const queued = engine.chat([{ role: 'user', content: 'and another' }], opts);
      let tokens = 0;
      let tokensAfterUnload = 0;
      let unloading: Promise<unknown> | null = null;
      let t0 = 0;
      const iterate = settle(async () => {
        for await (const e of stream) {
          if (e.type !== 'token') continue;
          tokens++;
          if (unloading) tokensAfterUnload++;
          if (tokens === 2) {
            t0 = performance.now();
            unloading = engine.unload();
          }
        }
      });
      const it = await iterate;
      const unloaded = await settle(unloading!);
      return {
        iterate: it.outcome,
        result: (await settle(stream.result)).outcome,
        queued: (await settle(queued.result)).outcome,
        unload: unloaded.outcome,
        unloadMs: performance.now() - t0,
        tokensAfterUnload,
        healthy: await healthy({ inThread }),
      };
    }, mode === 'main-thread');

    expect(r).toMatchObject({ iterate: 'AbortError', result: 'AbortError', queued: 'AbortError' });
    expect(r.unload).toBe('resolved');
    expect(r.unloadMs).toBeLessThan(UNLOAD_MS);
    expect(r.tokensAfterUnload).toBeLessThanOrEqual(1); // within one token
    expect(r.healthy).toEqual({ mode, completion: 3, finish: 'length' });
  });
}

test('worker: an abort during a 1,100-token prefill lands within one slice; the next turn reuses the slices', async ({
  page,
}) => {
  const golden = await readCase(nodeGoldenIO, GOLDEN_CASE);
  await open(page);
  const r = await page.evaluate(async (prompt) => {
    const { load, settle, greedyIds, healthy } = (globalThis as unknown as Win).lifecycle;
    const engine = await load();
    // A long text-only prompt: the golden prompt's ids over and over (no image placeholder among them).
    const ids = Array.from({ length: 1100 }, (_, i) => prompt[i % prompt.length]!);
    // A cold run first: it compiles every prefill pipeline (seconds each on a CPU adapter), so the
    // warm run's time is the one an abort is timed against.
    await greedyIds(engine, ids, 1);
    await engine.resetConversation();
    const full = await greedyIds(engine, ids, 4); // uninterrupted: the tokens and the prefill's time
    await engine.resetConversation();
    const ac = new AbortController();
    const stream = engine.generateFromIds(ids, {
      temperature: 0,
      maxTokens: 4,
      ignoreStop: true,
      signal: ac.signal,
    });
    const prefillMs = full.done.timings.timeToFirstTokenMs;
    await new Promise((res) => setTimeout(res, prefillMs * 0.4));
    const t0 = performance.now();
    ac.abort();
    const aborted = await settle(stream.result);
    const abortMs = performance.now() - t0;
    const done = aborted.outcome === 'resolved' ? await stream.result : null;
    const next = await greedyIds(engine, ids, 4);
    await engine.unload();
    return {
      prefillMs,
      abortMs,
      aborted: {
        outcome: aborted.outcome,
        finish: done?.finishReason,
        completion: done?.usage.completionTokens,
      },
      fullTokens: full.tokens,
      nextTokens: next.tokens,
      cached: next.done.usage.cachedPromptTokens,
      healthy: await healthy(),
    };
  }, golden.inputIds);

  const slices = Math.ceil(1100 / 256);
  const sliceMs = r.prefillMs / slices;
  console.log(
    `prefill ${r.prefillMs.toFixed(0)} ms (${slices} slices, ~${sliceMs.toFixed(0)} ms each); abort settled in ${r.abortMs.toFixed(0)} ms`,
  );
  expect(r.aborted).toEqual({ outcome: 'resolved', finish: 'abort', completion: 0 });
  // The abort lands within the slice it arrived in (plus the slice's readback and a thread turn).
  expect(r.abortMs).toBeLessThan(1.5 * sliceMs + 250);
  // The KV cache kept whole slices: the next turn reuses them and answers as the uninterrupted run did.
  expect(r.cached % 256).toBe(0);
  expect(r.cached).toBeGreaterThan(0);
  expect(r.cached).toBeLessThan(1100);
  expect(r.nextTokens).toEqual(r.fullTokens);
  expect(r.healthy).toMatchObject({ completion: 3 });
});

test('worker: device loss mid-stream, mid-prefill and idle is recovered with the uninterrupted greedy tokens', async ({
  page,
}) => {
  const golden = await readCase(nodeGoldenIO, GOLDEN_CASE);
  await open(page);
  const r = await page.evaluate(
    async ({ ids, n }) => {
      const { load, settle, greedyIds, healthy } = (globalThis as unknown as Win).lifecycle;
      const engine = await load();
      const events: Array<{ during: string; reason: string; rebuiltTokens: number }> = [];
      let onRecovered: () => void = () => {};
      engine.addEventListener('recovered', (e) => {
        events.push((e as CustomEvent).detail);
        onRecovered();
      });
      // Mid-stream: lost after the third token.
      const midStream = await greedyIds(engine, ids, n, (k) => k === 3 && engine.loseDeviceForTest());
      // Mid-prefill: lost a few kernel calls into the prompt's forward pass.
      await engine.resetConversation();
      await engine.loseDeviceForTest({ afterKernelCalls: 10 });
      const midPrefill = await greedyIds(engine, ids, n);
      // Idle, between two turns: the second turn reuses the rebuilt cache like an uninterrupted one.
      const follow = (first: number[]) => [...ids, ...first, 17, 29, 482];
      await engine.resetConversation();
      const ref1 = await greedyIds(engine, ids, 4);
      const ref2 = await greedyIds(engine, follow(ref1.tokens), 4);
      await engine.resetConversation();
      const t1 = await greedyIds(engine, ids, 4);
      const recovered = new Promise<void>((res) => {
        onRecovered = res;
      });
      await engine.loseDeviceForTest();
      const idleRecovery = await settle(recovered, 60_000);
      const t2 = await greedyIds(engine, follow(t1.tokens), 4);
      await engine.unload();
      return {
        midStream: midStream.tokens,
        midPrefill: midPrefill.tokens,
        idleRecovery: idleRecovery.outcome,
        ref: { tokens: ref2.tokens, cached: ref2.done.usage.cachedPromptTokens },
        got: { tokens: t2.tokens, cached: t2.done.usage.cachedPromptTokens },
        events,
        healthy: await healthy(),
      };
    },
    { ids: golden.inputIds, n: golden.expected.newTokens.length },
  );

  expect(r.midStream).toEqual(golden.expected.newTokens);
  expect(r.midPrefill).toEqual(golden.expected.newTokens);
  expect(r.idleRecovery).toBe('resolved');
  expect(r.got).toEqual(r.ref);
  expect(r.events.map((e) => e.during)).toEqual(['request', 'request', 'idle']);
  for (const e of r.events) expect(e.reason).toMatch(/device was lost/i);
  expect(r.healthy).toMatchObject({ completion: 3 });
});

test('worker: without autoRecover a device loss is a DeviceLostError (never AbortError), mid-stream, mid-prefill, idle', async ({
  page,
}) => {
  const golden = await readCase(nodeGoldenIO, GOLDEN_CASE);
  await open(page);
  const r = await page.evaluate(
    async ({ ids }) => {
      const { load, settle, greedyIds, healthy } = (globalThis as unknown as Win).lifecycle;
      const out: Record<string, { outcome: string; message?: string; ms: number }> = {};
      let engine = await load({ autoRecover: false });
      let lostAt = 0;
      const lose = () => {
        lostAt = performance.now();
        return engine.loseDeviceForTest();
      };
      out.midStream = await settle(greedyIds(engine, ids, 8, (k) => k === 2 && lose()));
      out.midStream.ms = performance.now() - lostAt; // from the loss, not from the (compiling) start
      out.afterLoss = await settle(engine.chat([{ role: 'user', content: 'x' }]).result);
      await engine.unload();
      engine = await load({ autoRecover: false });
      await engine.loseDeviceForTest({ afterKernelCalls: 10 });
      out.midPrefill = await settle(greedyIds(engine, ids, 4));
      await engine.unload();
      engine = await load({ autoRecover: false });
      await engine.loseDeviceForTest();
      out.idle = await settle(engine.chat([{ role: 'user', content: 'x' }]).result);
      await engine.unload();
      return { out, healthy: await healthy() };
    },
    { ids: golden.inputIds },
  );

  // midStream from the loss; the others from the call (a fresh device compiles its pipelines first).
  const bounds: Record<string, number> = { midStream: QUICK_MS + 1000, midPrefill: 15_000, idle: 15_000 };
  for (const [name, bound] of Object.entries(bounds)) {
    expect(r.out[name]!.outcome, name).toBe('DeviceLostError');
    expect(r.out[name]!.message, name).toMatch(/device was lost \(destroyed/i);
    expect(r.out[name]!.ms, name).toBeLessThan(bound);
  }
  expect(r.out.afterLoss!.outcome).toBe('EngineStateError'); // the lost model was dropped: load again
  expect(r.healthy).toMatchObject({ completion: 3 });
});

test('worker: aborts and queues (already good): within a token, queued runs after, pre-aborted, cancel, break', async ({
  page,
}) => {
  await open(page);
  const r = await page.evaluate(async () => {
    const { load, settle, healthy } = (globalThis as unknown as Win).lifecycle;
    const engine = await load();
    const opts = { temperature: 0, maxTokens: 30, ignoreStop: true, tokenEvents: true } as const;
    const user = (content: string) => [{ role: 'user' as const, content }];
    // Abort after two tokens while a second request waits.
    const ac = new AbortController();
    const first = engine.chat(user('a'), { ...opts, signal: ac.signal });
    const second = engine.chat(user('b'), opts);
    let n = 0;
    for await (const e of first) if (e.type === 'token' && ++n === 2) ac.abort();
    const a = await first.result;
    const b = await second.result;
    // Already aborted; cancel() of a queued request; break out of the loop.
    const pre = await settle(engine.chat(user('c'), { ...opts, signal: AbortSignal.abort() }).result);
    const running = engine.chat(user('d'), opts);
    const waiting = engine.chat(user('e'), opts);
    waiting.cancel();
    for await (const e of running) if (e.type === 'token') break;
    const broke = await running.result;
    const cancelled = await waiting.result;
    const after = await engine.chat(user('f'), { ...opts, maxTokens: 2 }).result;
    await engine.unload();
    return {
      aborted: [a.finishReason, a.usage.completionTokens],
      queued: [b.finishReason, b.usage.completionTokens],
      pre: pre.outcome,
      preMs: pre.ms,
      broke: [broke.finishReason, broke.usage.completionTokens <= 2],
      cancelled: [cancelled.finishReason, cancelled.usage.completionTokens],
      after: [after.finishReason, after.usage.completionTokens],
      healthy: await healthy(),
    };
  });

  expect(r.aborted).toEqual(['abort', 2]);
  expect(r.queued).toEqual(['length', 30]);
  expect(r.pre).toBe('resolved');
  expect(r.preMs).toBeLessThan(QUICK_MS);
  expect(r.broke).toEqual(['abort', true]);
  expect(r.cancelled).toEqual(['abort', 0]);
  expect(r.after).toEqual(['length', 2]);
  expect(r.healthy).toMatchObject({ completion: 3 });
});
