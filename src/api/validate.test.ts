// The page-side argument checks: every malformed argument is a ConfigError naming the call and the
// argument; the well-formed ones (every documented form) pass.
import { describe, expect, it } from 'vitest';
import { isKimiVLError } from '../errors.ts';
import {
  checkCachedModelId,
  checkChatArgs,
  checkCompletionRequest,
  checkIdsArgs,
  checkLoadArgs,
  checkPreloadArgs,
} from './validate.ts';

function refused(f: () => void): string {
  try {
    f();
  } catch (e) {
    expect(isKimiVLError(e, 'ConfigError'), String(e)).toBe(true);
    return (e as Error).message;
  }
  throw new Error('accepted');
}

const user = [{ role: 'user', content: 'hi' }];
const file = new File([new Uint8Array(4)], 'config.json');

describe('checkLoadArgs', () => {
  it.each<[string, unknown, unknown]>([
    ['repo id', 'moonshotai/Kimi-VL-A3B-Instruct', undefined],
    ['folder URL', '/models/kimi-vl-tiny/', { quantization: 'q4', backend: 'ref' }],
    ['URL', new URL('https://example.test/m/'), { contextBudget: 256 }],
    ['{ url }', { url: 'https://example.test/m/' }, {}],
    ['{ repo }', { repo: 'a/b', revision: 'main', hubUrl: 'https://hf.example' }, { thinking: true }],
    ['{ files }', { files: [file] }, { onProgress: () => {}, signal: new AbortController().signal }],
    ['File[]', [file], { powerPreference: 'high-performance', inThread: true }],
    ['{ directory }', { directory: { kind: 'directory' } }, { autoRecover: false, requireWorker: false }],
  ])('accepts %s', (_, model, opts) => expect(() => checkLoadArgs(model, opts)).not.toThrow());

  it.each<[string, unknown, unknown, RegExp]>([
    ['no model', undefined, undefined, /model must be a Hugging Face repo id/],
    ['empty id', '  ', undefined, /model must be/],
    ['a number', 42, undefined, /got 42/],
    ['{ url: 5 }', { url: 5 }, undefined, /url must be a non-empty string/],
    ['{ repo: null }', { repo: null }, undefined, /repo must be/],
    ['empty file list', [], undefined, /list of model files is empty/],
    ['not files', ['config.json'], undefined, /files\[0\] must be a File/],
    ['bad directory', { directory: {} }, undefined, /FileSystemDirectoryHandle/],
    ['options not an object', 'a/b', 'q4', /options must be an object/],
    [
      'quantization q3',
      'a/b',
      { quantization: 'q3' },
      /quantization is "q3"; allowed values: "none", "q8", "q4"/,
    ],
    ['backend tpu', 'a/b', { backend: 'tpu' }, /backend is "tpu"; allowed values: "gpu", "ref"/],
    ['powerPreference', 'a/b', { powerPreference: 'max' }, /powerPreference is "max"; allowed values/],
    ['contextBudget 0', 'a/b', { contextBudget: 0 }, /contextBudget must be an integer in \[1, /],
    ['contextBudget huge', 'a/b', { contextBudget: 1e12 }, /contextBudget must be an integer/],
    ['contextBudget string', 'a/b', { contextBudget: '256' }, /contextBudget must be an integer/],
    ['thinking string', 'a/b', { thinking: 'yes' }, /thinking must be true or false/],
    ['onProgress', 'a/b', { onProgress: 1 }, /onProgress must be a function/],
    ['signal', 'a/b', { signal: {} }, /signal must be an AbortSignal/],
    ['hubUrl', 'a/b', { hubUrl: 'http://[' }, /hubUrl is not a URL/],
    ['worker', 'a/b', { worker: 'worker.js' }, /worker must be a Worker/],
  ])('refuses %s', (_, model, opts, message) =>
    expect(refused(() => checkLoadArgs(model, opts))).toMatch(message),
  );

  it('names the call', () => {
    expect(refused(() => checkLoadArgs(undefined, undefined))).toMatch(/^KimiVL\.load: /);
    expect(refused(() => checkPreloadArgs('a/b', { quantization: 'q2' }, 'preload'))).toMatch(/^preload: /);
    expect(refused(() => checkPreloadArgs(null, {}, 'check'))).toMatch(/^check: /);
  });
});

describe('checkChatArgs', () => {
  it('accepts every documented message and part form', () => {
    expect(() =>
      checkChatArgs(
        [
          { role: 'system', content: 'be brief' },
          {
            role: 'user',
            content: [
              { type: 'image', image: new Blob([]) },
              { type: 'video', video: 'clip.mp4' },
              { type: 'text', text: 'what is this?' },
            ],
          },
          { role: 'assistant', content: '' },
        ],
        { maxTokens: 8, temperature: 0, tokenEvents: true, signal: new AbortController().signal },
      ),
    ).not.toThrow();
  });

  it.each<[string, unknown, unknown, RegExp]>([
    ['undefined', undefined, undefined, /messages must be a non-empty array/],
    ['a string', 'hi', undefined, /messages must be a non-empty array of \{ role, content \}, got "hi"/],
    ['an object', { role: 'user', content: 'x' }, undefined, /messages must be a non-empty array/],
    ['empty', [], undefined, /messages is empty/],
    ['null entry', [null], undefined, /messages\[0\] must be \{ role, content \}/],
    ['bad role', [{ role: 'tool', content: 'x' }], undefined, /messages\[0\]\.role must be/],
    ['no content', [{ role: 'user' }], undefined, /messages\[0\]\.content must be a string or an array/],
    ['null content', [{ role: 'user', content: null }], undefined, /content must be a string or an array/],
    ['bad part', [{ role: 'user', content: [{ type: 'audio' }] }], undefined, /content\[0\] must be/],
    ['image null', [{ role: 'user', content: [{ type: 'image', image: null }] }], undefined, /content\[0\]/],
    ['text not string', [{ role: 'user', content: [{ type: 'text', text: 5 }] }], undefined, /content\[0\]/],
    ['options not object', user, 7, /options must be an object/],
    ['maxTokens 0', user, { maxTokens: 0 }, /maxTokens must be a positive integer/],
    ['temperature -1', user, { temperature: -1 }, /temperature must be ≥ 0/],
    ['topP 2', user, { topP: 2 }, /topP must be in/],
    ['seed', user, { seed: -1 }, /seed must be a u32/],
    ['tokenEvents', user, { tokenEvents: 'yes' }, /tokenEvents must be true or false/],
    ['thinkingBudget', user, { thinkingBudget: -2 }, /thinkingBudget must be an integer/],
    ['signal', user, { signal: 'abort' }, /signal must be an AbortSignal/],
  ])('refuses %s', (_, messages, options, message) => {
    const m = refused(() => checkChatArgs(messages, options));
    expect(m).toMatch(/^chat: /);
    expect(m).toMatch(message);
  });

  it('too many messages', () => {
    expect(
      refused(() =>
        checkChatArgs(
          Array.from({ length: 10_001 }, () => user[0]),
          {},
        ),
      ),
    ).toMatch(/at most 10000/);
  });
});

describe('checkIdsArgs', () => {
  it('accepts ids, refuses the rest', () => {
    expect(() => checkIdsArgs([1, 2, 3], { maxTokens: 2 })).not.toThrow();
    expect(refused(() => checkIdsArgs([], {}))).toMatch(/non-empty array of token ids/);
    expect(refused(() => checkIdsArgs('1 2', {}))).toMatch(/non-empty array/);
    expect(refused(() => checkIdsArgs([1, -1], {}))).toMatch(/ids\[1\] must be an integer ≥ 0/);
    expect(refused(() => checkIdsArgs([1.5], {}))).toMatch(/ids\[0\]/);
  });
});

describe('checkCompletionRequest', () => {
  it('accepts OpenAI requests', () => {
    expect(() =>
      checkCompletionRequest({
        model: 'x',
        stream: true,
        max_tokens: 4,
        temperature: null,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'hi' },
              { type: 'image_url', image_url: { url: 'data:image/png;base64,' } },
              { type: 'image_url', image_url: 'https://example.test/a.png' },
            ],
          },
        ],
      }),
    ).not.toThrow();
  });

  it.each<[string, unknown, RegExp]>([
    ['undefined', undefined, /the request must be an object/],
    ['{}', {}, /messages is missing/],
    ['messages not array', { messages: 'hi' }, /messages must be a non-empty array/],
    ['content null', { messages: [{ role: 'assistant', content: null }] }, /messages\[0\]\.content is null/],
    [
      'image_url bad',
      { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: 3 }] }] },
      /image_url must be/,
    ],
    [
      'video (not OpenAI)',
      { messages: [{ role: 'user', content: [{ type: 'video', video: 'x' }] }] },
      /content\[0\] must be/,
    ],
    ['stream string', { messages: user, stream: 'yes' }, /stream must be true or false/],
    ['max_tokens string', { messages: user, max_tokens: '5' }, /max_tokens must be a number/],
    ['model number', { messages: user, model: 5 }, /model must be a string/],
  ])('refuses %s', (_, req, message) => {
    const m = refused(() => checkCompletionRequest(req));
    expect(m).toMatch(/^chat\.completions\.create: /);
    expect(m).toMatch(message);
  });
});

describe('checkCachedModelId', () => {
  it('a cache id string', () => {
    expect(() => checkCachedModelId('url:https://x/m/#q4', { converted: false })).not.toThrow();
    expect(refused(() => checkCachedModelId(undefined))).toMatch(
      /^deleteCachedModel: id must be a cached model's id/,
    );
    expect(refused(() => checkCachedModelId(''))).toMatch(/id must be/);
    expect(refused(() => checkCachedModelId({ id: 'x' }))).toMatch(/got an object/);
    expect(refused(() => checkCachedModelId('x', { converted: 'no' }))).toMatch(
      /converted must be true or false/,
    );
  });
});
