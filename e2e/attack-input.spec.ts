// Attack suite, input rows (issue 17): hostile arguments and files through the public API in Chromium.
// Malicious config.json sizes (num_hidden_layers 1e6 used to crash the tab), malformed messages and
// options, OpenAI requests without messages, unknown enum options, isKimiVLError on foreign errors —
// plus the cases that already held (bad and truncated images, foreign or truncated model files, bad
// sampling options, context overflow). Each row asserts the typed error name (a KimiVLError on the
// page), that the call settled within its bound, and that a normal load + chat works right after.
// Page: e2e/pages/attack-input-test.ts (window.attack).
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, type Page, test } from '@playwright/test';
import type { Attack, Settled } from './pages/attack-input-test.ts';
import { DataSession } from './support/data_client.ts';
import { E2E_TMP, REPO_ROOT } from './support/env.ts';

type Win = { attack: Attack };
/** An argument refused on the page: no worker round trip, no model work. */
const ARG_MS = 2000;
/** A load refused on config.json: one small fetch, no weights. */
const CONFIG_MS = 15_000;
/** A request refused by the engine (image decode, context check) on the loaded tiny model. */
const REQUEST_MS = 10_000;

const TINY = join(REPO_ROOT, 'public/models/kimi-vl-tiny');
const OUT = join(E2E_TMP, `attack-input-${process.pid}`);

// biome-ignore lint/suspicious/noExplicitAny: JSON edited in place
type Json = Record<string, any>;
interface Malicious {
  name: string;
  file?: 'config.json' | 'preprocessor_config.json';
  edit(j: Json): void;
  error: string;
  message: RegExp;
}

/** Sizes far past any model, each in its own folder; the field must be named in the error. */
const MALICIOUS: Malicious[] = [
  ...(
    [
      ['text_config', 'num_hidden_layers', 1e6],
      ['vision_config', 'num_hidden_layers', 1e6],
      ['text_config', 'n_routed_experts', 1e9],
      ['text_config', 'vocab_size', 1e9],
      ['text_config', 'hidden_size', 1e6],
      ['text_config', 'num_attention_heads', 1e6],
      ['text_config', 'intermediate_size', 1e9],
      ['text_config', 'moe_intermediate_size', 1e9],
      ['text_config', 'max_position_embeddings', 1e12],
      ['text_config', 'qk_rope_head_dim', 1e6],
      ['text_config', 'kv_lora_rank', 1e7],
      ['vision_config', 'hidden_size', 1e6],
      ['vision_config', 'init_pos_emb_height', 1e6],
      ['vision_config', 'patch_size', 1e4],
    ] as const
  ).map(
    ([part, key, v]): Malicious => ({
      name: `${part}.${key}=${v}`,
      edit: (j) => {
        j[part][key] = v;
      },
      error: 'ConfigError',
      message: new RegExp(`${part}\\.${key} must be ≤`),
    }),
  ),
  {
    name: 'layers x experts past the tensor bound',
    edit: (j) => Object.assign(j.text_config, { num_hidden_layers: 256, n_routed_experts: 1024 }),
    error: 'ConfigError',
    message: /num_hidden_layers × n_routed_experts imply \d+ tensors/,
  },
  {
    name: 'layers within the bound but not in the files',
    edit: (j) => {
      j.text_config.num_hidden_layers = 200;
    },
    error: 'CheckpointError',
    message: /config\.json implies \d+ tensors .* but the checkpoint holds \d+/,
  },
  {
    name: 'preprocessor in_token_limit 1e9',
    file: 'preprocessor_config.json',
    edit: (j) => {
      j.in_token_limit = 1e9;
    },
    error: 'ConfigError',
    message: /in_token_limit/,
  },
];

test.beforeAll(() => {
  for (const m of MALICIOUS) {
    const dir = join(OUT, m.name.replace(/[^\w.=-]+/g, '_'));
    mkdirSync(dir, { recursive: true });
    for (const f of readdirSync(TINY)) writeFileSync(join(dir, f), readFileSync(join(TINY, f)));
    const file = join(dir, m.file ?? 'config.json');
    const j = JSON.parse(readFileSync(file, 'utf8'));
    m.edit(j);
    writeFileSync(file, JSON.stringify(j));
  }
});
test.afterAll(() => rmSync(OUT, { recursive: true, force: true }));
test.describe.configure({ timeout: 240_000 });

async function open(page: Page): Promise<{ crashed: () => boolean; errors: string[] }> {
  let crashed = false;
  const errors: string[] = [];
  page.on('crash', () => {
    crashed = true;
  });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/e2e/pages/attack-input-test.html');
  await page.waitForFunction(() => 'attack' in globalThis);
  return { crashed: () => crashed, errors };
}

/** Every row: the typed error it must be, on the page's own KimiVLError class, within the bound. */
function expectRefused(rows: Record<string, Settled>, want: Record<string, string>, boundMs: number) {
  for (const [name, s] of Object.entries(rows)) {
    const error = want[name] ?? 'ConfigError';
    expect(s.outcome, `${name}: ${s.message ?? ''}`).toBe(error);
    expect(s.typed, `${name} is a KimiVLError`).toBe(true);
    expect(s.ms, `${name} settled in time`).toBeLessThan(boundMs);
  }
}

test('malicious config.json sizes: a ConfigError naming the field, no crash, the next load works', async ({
  page,
}) => {
  const { crashed, errors } = await open(page);
  const data = new DataSession();
  const urls = MALICIOUS.map((m) =>
    data.url('tmp', `${OUT.slice(E2E_TMP.length + 1)}/${m.name.replace(/[^\w.=-]+/g, '_')}/`),
  );
  const r = await page.evaluate(async (urls) => {
    const { KimiVL, settle, healthy } = (globalThis as unknown as Win).attack;
    const rows: Settled[] = [];
    for (const url of urls) rows.push(await settle(KimiVL.load(url, { contextBudget: 256 })));
    return { rows, healthy: await healthy() };
  }, urls);
  expect(crashed()).toBe(false);
  MALICIOUS.forEach((m, i) => {
    const s = r.rows[i]!;
    expect(s.outcome, `${m.name}: ${s.message}`).toBe(m.error);
    expect(s.typed, m.name).toBe(true);
    expect(s.message, m.name).toMatch(m.message);
    expect(s.ms, m.name).toBeLessThan(CONFIG_MS);
  });
  expect(r.healthy).toEqual({ completion: 3, finish: 'length' });
  expect(errors).toEqual([]);
  await data.reset();
});

test('malformed messages and options of chat, generateFromIds and chat.completions.create', async ({
  page,
}) => {
  const { errors } = await open(page);
  const r = await page.evaluate(async () => {
    const { KimiVL, settle, MODEL } = (globalThis as unknown as Win).attack;
    const engine = await KimiVL.load(MODEL, { contextBudget: 256 });
    const user = [{ role: 'user' as const, content: 'hi' }];
    // biome-ignore lint/suspicious/noExplicitAny: hostile arguments on purpose
    const chat = (m: any, o?: any) => settle(engine.chat(m, o).result);
    // biome-ignore lint/suspicious/noExplicitAny: hostile arguments on purpose
    const create = (req: any) => settle(engine.chat.completions.create(req));
    const rows: Record<string, Settled> = {
      'chat(undefined)': await chat(undefined),
      'chat("hi")': await chat('hi'),
      'chat([])': await chat([]),
      'chat({})': await chat({}),
      'chat([null])': await chat([null]),
      'role tool': await chat([{ role: 'tool', content: 'x' }]),
      'no content': await chat([{ role: 'user' }]),
      'content null': await chat([{ role: 'user', content: null }]),
      'content number': await chat([{ role: 'user', content: 5 }]),
      'unknown part': await chat([{ role: 'user', content: [{ type: 'audio', audio: 'x' }] }]),
      'image null': await chat([{ role: 'user', content: [{ type: 'image', image: null }] }]),
      'options null': await chat(user, null),
      'options string': await chat(user, 'fast'),
      'maxTokens 0': await chat(user, { maxTokens: 0 }),
      'maxTokens 1e400': await chat(user, { maxTokens: Number.POSITIVE_INFINITY }),
      'temperature -1': await chat(user, { temperature: -1 }),
      'topP 2': await chat(user, { topP: 2 }),
      'seed -1': await chat(user, { seed: -1 }),
      'signal string': await chat(user, { signal: 'abort' }),
      'tokenEvents string': await chat(user, { tokenEvents: 'yes' }),
      'iterate chat(undefined)': await settle(async () => {
        // biome-ignore lint/suspicious/noExplicitAny: hostile argument
        for await (const _ of engine.chat(undefined as any));
      }),
      'generateFromIds("1 2")': await settle(engine.generateFromIds('1 2' as unknown as number[]).result),
      'generateFromIds([-1])': await settle(engine.generateFromIds([-1]).result),
      'create(undefined)': await create(undefined),
      'create({})': await create({}),
      'create messages string': await create({ messages: 'hi' }),
      'create user content null': await create({ messages: [{ role: 'user', content: null }] }),
      'create stream string': await create({ messages: user, stream: 'yes' }),
      'create max_tokens string': await create({ messages: user, max_tokens: '5' }),
      'create image_url number': await create({
        messages: [{ role: 'user', content: [{ type: 'image_url', image_url: 3 }] }],
      }),
    };
    const after = await engine.chat(user, { maxTokens: 3, temperature: 0, ignoreStop: true }).result;
    await engine.unload();
    return { rows, after: { completion: after.usage.completionTokens, finish: after.finishReason } };
  });
  expectRefused(r.rows, {}, ARG_MS);
  // The same engine answers right after every refusal.
  expect(r.after).toEqual({ completion: 3, finish: 'length' });
  expect(errors).toEqual([]);
});

test('unknown enum options and malformed load / check / preload / deleteCachedModel arguments', async ({
  page,
}) => {
  const { errors } = await open(page);
  const r = await page.evaluate(async () => {
    const { KimiVL, deleteCachedModel, settle, healthy, MODEL } = (globalThis as unknown as Win).attack;
    // biome-ignore lint/suspicious/noExplicitAny: hostile arguments on purpose
    const load = (m: any, o?: any) => settle(KimiVL.load(m, o));
    const rows: Record<string, Settled> = {
      'quantization q3': await load(MODEL, { quantization: 'q3' }),
      'backend tpu': await load(MODEL, { backend: 'tpu' }),
      'powerPreference max': await load(MODEL, { powerPreference: 'max' }),
      'contextBudget 0': await load(MODEL, { contextBudget: 0 }),
      'contextBudget 1e12': await load(MODEL, { contextBudget: 1e12 }),
      'thinking "yes"': await load(MODEL, { thinking: 'yes' }),
      'onProgress 1': await load(MODEL, { onProgress: 1 }),
      'options string': await load(MODEL, 'q4'),
      'load(undefined)': await load(undefined),
      'load(42)': await load(42),
      'load("")': await load(''),
      'load({ files: [] })': await load({ files: [] }),
      'load(["config.json"])': await load(['config.json']),
      'load({ url: 5 })': await load({ url: 5 }),
      // biome-ignore lint/suspicious/noExplicitAny: hostile arguments on purpose
      'check(undefined)': await settle(KimiVL.check(undefined as any)),
      // biome-ignore lint/suspicious/noExplicitAny: hostile arguments on purpose
      'preload q3': await settle(KimiVL.preload(MODEL, { quantization: 'q3' as any })),
      // biome-ignore lint/suspicious/noExplicitAny: hostile arguments on purpose
      'deleteCachedModel(undefined)': await settle(deleteCachedModel(undefined as any)),
      'deleteCachedModel("")': await settle(deleteCachedModel('')),
      // biome-ignore lint/suspicious/noExplicitAny: hostile arguments on purpose
      'deleteCachedModel({})': await settle(deleteCachedModel({} as any)),
    };
    return { rows, healthy: await healthy() };
  });
  expectRefused(r.rows, {}, ARG_MS);
  expect(r.rows['quantization q3']!.message).toMatch(
    /quantization is "q3"; allowed values: "none", "q8", "q4"/,
  );
  expect(r.rows['backend tpu']!.message).toMatch(/backend is "tpu"; allowed values: "gpu", "ref"/);
  expect(r.rows['powerPreference max']!.message).toMatch(/"low-power", "high-performance"/);
  expect(r.healthy).toEqual({ completion: 3, finish: 'length' });
  expect(errors).toEqual([]);
});

test('isKimiVLError recognises our errors (also from the worker) and nothing else', async ({ page }) => {
  await open(page);
  const r = await page.evaluate(async () => {
    const { KimiVL, KimiVLError, isKimiVLError, MODEL, healthy } = (globalThis as unknown as Win).attack;
    // A real error from the worker (comlink re-creates it; the page gives it back its class).
    const fromWorker = await KimiVL.load(MODEL, { contextBudget: 256 }).then(async (engine) => {
      const e = await engine.generateFromIds([1e9], { maxTokens: 1 }).result.catch((err: unknown) => err);
      await engine.unload();
      return e;
    });
    return {
      fromWorker: isKimiVLError(fromWorker, 'ConfigError') && fromWorker instanceof KimiVLError,
      ours: isKimiVLError(new KimiVLError('ImageError', 'x'), 'ImageError'),
      typeError: isKimiVLError(new TypeError('Invalid value used as weak map key')),
      rangeError: isKimiVLError(new RangeError('x')),
      domAbort: isKimiVLError(new DOMException('aborted', 'AbortError')),
      namedLikeOurs: isKimiVLError(Object.assign(new TypeError('x'), { name: 'ConfigError' })),
      someError: isKimiVLError(Object.assign(new Error('x'), { name: 'SomethingError' })),
      plainClone: isKimiVLError({ name: 'QuotaError', message: 'full' }),
      healthy: await healthy(),
    };
  });
  expect(r).toEqual({
    fromWorker: true,
    ours: true,
    typeError: false,
    rangeError: false,
    domAbort: false,
    namedLikeOurs: false,
    someError: false,
    plainClone: true,
    healthy: { completion: 3, finish: 'length' },
  });
});

test('already good: bad, truncated and foreign images; foreign and truncated model files; context overflow', async ({
  page,
}) => {
  const { crashed, errors } = await open(page);
  const r = await page.evaluate(async () => {
    const { KimiVL, settle, healthy, bytesOf, MODEL } = (globalThis as unknown as Win).attack;
    const png = await bytesOf('/e2e/screenshots/demo-idle.png');
    const shard = await bytesOf(`${MODEL}model-00001-of-00002.safetensors`);
    const engine = await KimiVL.load(MODEL, { contextBudget: 128 });
    // biome-ignore lint/suspicious/noExplicitAny: hostile images on purpose
    const withImage = (image: any) =>
      settle(
        engine.chat(
          [
            {
              role: 'user',
              content: [
                { type: 'image', image },
                { type: 'text', text: 'what?' },
              ],
            },
          ],
          {
            maxTokens: 2,
          },
        ).result,
      );
    const rows: Record<string, Settled> = {
      'text as image': await withImage(new Blob(['not an image'], { type: 'image/png' })),
      'truncated PNG': await withImage(new Blob([png.slice(0, 200)], { type: 'image/png' })),
      'foreign blob (safetensors)': await withImage(new Blob([shard.slice(0, 4096)])),
      'image 42': await withImage(42),
      'image URL 404': await withImage('/no/such/image.png'),
      'context overflow': await settle(
        engine.chat([{ role: 'user', content: 'many words '.repeat(300) }], { maxTokens: 2 }).result,
      ),
      'topK -1': await settle(engine.chat([{ role: 'user', content: 'x' }], { topK: -1 }).result),
    };
    const after = await engine.chat([{ role: 'user', content: 'hi' }], {
      maxTokens: 3,
      temperature: 0,
      ignoreStop: true,
    }).result;
    await engine.unload();
    // Model files: a truncated shard, and a foreign file in a shard's place.
    const files = async (replace: Record<string, Blob>) =>
      Promise.all(
        [
          'config.json',
          'model.safetensors.index.json',
          'model-00001-of-00002.safetensors',
          'model-00002-of-00002.safetensors',
          'tiktoken.model',
          'tokenizer_config.json',
        ].map(async (name) => new File([replace[name] ?? new Blob([await bytesOf(MODEL + name)])], name)),
      );
    const truncated = await settle(
      KimiVL.load(
        await files({ 'model-00002-of-00002.safetensors': new Blob([shard.slice(0, shard.length / 3)]) }),
        { contextBudget: 128 },
      ),
    );
    const foreign = await settle(
      KimiVL.load(await files({ 'model-00001-of-00002.safetensors': new Blob([png]) }), {
        contextBudget: 128,
      }),
    );
    return {
      rows,
      files: { truncated, foreign },
      after: { completion: after.usage.completionTokens, finish: after.finishReason },
      healthy: await healthy(),
    };
  });
  expectRefused(
    r.rows,
    {
      'text as image': 'ImageError',
      'truncated PNG': 'ImageError',
      'foreign blob (safetensors)': 'ImageError',
      'image 42': 'ImageError',
      'image URL 404': 'ImageError',
      'context overflow': 'ContextOverflowError',
    },
    REQUEST_MS,
  );
  for (const [name, s] of Object.entries(r.files)) {
    expect(['SafetensorsError', 'CheckpointError'], `${name}: ${s.outcome} ${s.message}`).toContain(
      s.outcome,
    );
    expect(s.typed, name).toBe(true);
    expect(s.ms, name).toBeLessThan(CONFIG_MS);
  }
  expect(r.after).toEqual({ completion: 3, finish: 'length' });
  expect(r.healthy).toEqual({ completion: 3, finish: 'length' });
  expect(crashed()).toBe(false);
  expect(errors).toEqual([]);
});
