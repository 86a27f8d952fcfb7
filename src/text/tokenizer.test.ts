// Unit tests of the tokenizer's parts: the heap merge on long pieces, Kimi's input chunking, file
// parsing errors, the URL loader and speed.
import { Tiktoken } from 'tiktoken/lite';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { formatTiktokenModel } from '../../scripts/make-test-vocab.ts';
import { trainBpe } from '../../scripts/text-bpe-train.ts';
import { isKimiVLError } from '../errors.ts';
import { mulberry32 } from '../testing/random.ts';
import { mixedText } from './fixtures/mixed_text.ts';
import { loadTokenizer, readTokenizerFiles, TEST_VOCAB_DIR } from './fixtures/node_helpers.ts';
import { KIMI_PAT_STR, splitForEncode } from './pretokenize.ts';
import { loadTokenizerFromUrl, Tokenizer } from './tokenizer.ts';
import { parseTiktokenModel, specialTokensFromConfig } from './vocab.ts';

const CONFIG = '{}';

describe('BPE on long pieces (heap merge) agrees with tiktoken', () => {
  // A vocabulary over a three-letter alphabet with many merges, so long words merge deeply.
  const rand = mulberry32(3);
  const word = (n: number) => Array.from({ length: n }, () => 'abc'[Math.floor(rand() * 3)]).join('');
  const corpus = Array.from({ length: 3000 }, () => word(2 + Math.floor(rand() * 12))).join(' ');
  const model = formatTiktokenModel(trainBpe(corpus, 400));
  const tok = Tokenizer.fromFiles(model, CONFIG);
  const oracle = new Tiktoken(model, Object.fromEntries(tok.specialTokens), KIMI_PAT_STR);

  it('on single pre-tokens of 2 to 3000 letters', () => {
    const lengths = [2, 3, 47, 48, 49, 50, 64, 100, 257, 1000, 3000];
    for (const n of lengths) {
      for (let rep = 0; rep < 5; rep++) {
        const text = word(n);
        expect(tok.encode(text), `length ${n}`).toEqual([...oracle.encode_ordinary(text)]);
      }
    }
    const repeated = 'abcab'.repeat(2000);
    expect(tok.encode(repeated)).toEqual([...oracle.encode_ordinary(repeated)]);
    oracle.free();
  });
});

describe("Kimi's input chunking (400k code points, runs of 25k)", () => {
  it('cuts runs longer than the limit like _split_whitespaces_or_nonwhitespaces', () => {
    expect(splitForEncode('aaaaa  bb', 400, 2)).toEqual(['aa', 'aa', 'a  bb']);
    expect(splitForEncode('ab  \t\n  cd', 400, 3)).toEqual(['ab  \t', '\n  cd']); // cut at the 4th space-like character
    expect(splitForEncode('😀😀😀😀', 400, 2)).toEqual(['😀😀', '😀😀']); // code points, not UTF-16 units
    expect(splitForEncode('abcdefg', 3, 100)).toEqual(['abc', 'def', 'g']);
    expect(splitForEncode('short', 400, 5)).toEqual(['short']);
  });

  it('encode applies it: a 60k-digit run is encoded as 25k + 25k + 10k', () => {
    const tok = loadTokenizer(TEST_VOCAB_DIR);
    const run = '7'.repeat(60_000);
    const parts = [run.slice(0, 25_000), run.slice(25_000, 50_000), run.slice(50_000)];
    const expected = parts.flatMap((p) => tok.encode(p));
    expect(tok.encode(run)).toEqual(expected);
    // 25,000 is not a multiple of 3, so chunking changes the \p{N}{1,3} pieces: the test can fail.
    expect(expected.length).toBeGreaterThan(Math.ceil(60_000 / 3));
  });
});

describe('file parsing', () => {
  const bytes256 = formatTiktokenModel(Array.from({ length: 256 }, (_, b) => String.fromCharCode(b)));
  const expectError = (f: () => unknown, re: RegExp) => {
    try {
      f();
    } catch (e) {
      expect(isKimiVLError(e, 'TokenizerError')).toBe(true);
      expect((e as Error).message).toMatch(re);
      return;
    }
    throw new Error('expected a TokenizerError');
  };

  it('reads ranks, and numbers specials from the base size with reserved names', () => {
    const tok = Tokenizer.fromFiles(
      bytes256,
      JSON.stringify({ added_tokens_decoder: { 257: { content: '[X]' } } }),
    );
    expect(tok.numBaseTokens).toBe(256);
    expect(tok.vocabSize).toBe(256 + 258);
    expect(tok.specialTokenId('[X]')).toBe(257);
    expect(tok.specialTokenId('<|reserved_token_256|>')).toBe(256);
    expect(tok.specialTokenId('<|reserved_token_513|>')).toBe(513);
    expect(() => tok.specialTokenId('<|reserved_token_514|>')).toThrow(/no special token/);
    expect(specialTokensFromConfig('{"num_reserved_special_tokens": 0}', 10).size).toBe(2);
  });

  it('rejects malformed files with a message saying what is wrong', () => {
    expectError(() => parseTiktokenModel(`${bytes256}garbage\n`), /line 257 is not/);
    expectError(() => parseTiktokenModel(`${bytes256}YWI= 300\n`), /no token with rank 256/);
    expectError(() => parseTiktokenModel(`${bytes256}YQ== 256\n`), /duplicate/);
    expectError(() => parseTiktokenModel(bytes256.replace('AA== 0\n', '')), /no token with rank 0/);
    expectError(
      () => parseTiktokenModel(bytes256.replace('AA== 0', 'YWI= 0')),
      /lacks the single-byte token 0x0/,
    );
    expectError(() => parseTiktokenModel('!!!! 0\n'), /invalid base64/);
    expectError(() => specialTokensFromConfig('{', 256), /not valid JSON/);
    expectError(
      () =>
        specialTokensFromConfig(
          '{"added_tokens_decoder": {"256": {"content": "<|reserved_token_257|>"}}}',
          256,
        ),
      /two special tokens/,
    );
  });
});

describe('loadTokenizerFromUrl', () => {
  afterEach(() => vi.unstubAllGlobals());
  const files = readTokenizerFiles(TEST_VOCAB_DIR);

  it('fetches both files (and probes chat_template.jinja) relative to the folder URL, with or without a trailing slash', async () => {
    const fetched: string[] = [];
    vi.stubGlobal('fetch', async (url: URL) => {
      fetched.push(String(url));
      if (String(url).endsWith('.jinja')) return new Response('no', { status: 404 });
      const body = String(url).endsWith('tiktoken.model') ? files.model : files.config;
      return new Response(body);
    });
    const a = await loadTokenizerFromUrl('https://example.test/tok/tiny');
    const b = await loadTokenizerFromUrl(new URL('https://example.test/tok/tiny/'));
    expect(fetched.sort()).toEqual([
      'https://example.test/tok/tiny/chat_template.jinja',
      'https://example.test/tok/tiny/chat_template.jinja',
      'https://example.test/tok/tiny/tiktoken.model',
      'https://example.test/tok/tiny/tiktoken.model',
      'https://example.test/tok/tiny/tokenizer_config.json',
      'https://example.test/tok/tiny/tokenizer_config.json',
    ]);
    expect(a.encode('hello world')).toEqual(loadTokenizer(TEST_VOCAB_DIR).encode('hello world'));
    expect(b.vocabSize).toBe(a.vocabSize);
    expect(a.chatTemplate).toBeNull();
  });

  it('an SPA fallback (HTML) for chat_template.jinja means absent; a present one is used', async () => {
    const html = () => new Response('<!doctype html><p>app', { headers: { 'content-type': 'text/html' } });
    const serve = (jinja: () => Response) => async (url: URL) => {
      const u = String(url);
      if (u.endsWith('.jinja')) return jinja();
      return new Response(u.endsWith('tiktoken.model') ? files.model : files.config);
    };
    vi.stubGlobal('fetch', serve(html));
    expect((await loadTokenizerFromUrl('https://example.test/t/')).chatTemplate).toBeNull();
    vi.stubGlobal(
      'fetch',
      serve(() => new Response('{{ messages[0].content }}')),
    );
    expect((await loadTokenizerFromUrl('https://example.test/t/')).chatTemplate?.source).toBe(
      '{{ messages[0].content }}',
    );
  });

  it('a required file answered with HTML is a DownloadError naming the URL and the file expected', async () => {
    vi.stubGlobal(
      'fetch',
      async () => new Response('<html>', { headers: { 'content-type': 'text/html; charset=utf-8' } }),
    );
    await expect(loadTokenizerFromUrl('https://example.test/spa/')).rejects.toMatchObject({
      name: 'DownloadError',
      message: expect.stringMatching(
        /https:\/\/example\.test\/spa\/(tiktoken\.model|tokenizer_config\.json) answered with an HTML page .* instead of (tiktoken\.model|tokenizer_config\.json)/,
      ),
    });
  });

  it('refuses a relative URL where there is no page location (Node)', async () => {
    await expect(loadTokenizerFromUrl('tokenizers/tiny-512')).rejects.toMatchObject({ name: 'ConfigError' });
  });

  it('turns an HTTP error into a DownloadError', async () => {
    vi.stubGlobal('fetch', async () => new Response('missing', { status: 404 }));
    await expect(loadTokenizerFromUrl('https://example.test/none/')).rejects.toMatchObject({
      name: 'DownloadError',
      message: expect.stringMatching(/HTTP 404/),
    });
  });
});

describe('speed (logged, not asserted: the machine is shared)', () => {
  it('encodes 100 KB of mixed text', () => {
    const tok = loadTokenizer(TEST_VOCAB_DIR);
    const text = mixedText(100_000, 11);
    const t0 = performance.now();
    const ids = tok.encode(text);
    const ms = performance.now() - t0;
    console.log(`encode 100 KB: ${ms.toFixed(0)} ms, ${ids.length} tokens (cold piece cache)`);
    expect(tok.decode(ids)).toBe(text);
  });

  it('has no catastrophic regex or merge cases on 100k-character adversarial inputs', () => {
    const tok = loadTokenizer(TEST_VOCAB_DIR);
    const units = [' ', 'A', '\u0301', ' \r', "a'", '1', '中', '!', 'ab', '\t\n', 'ǅ', "'s"];
    for (const u of units) {
      const text = u.repeat(Math.ceil(100_000 / u.length));
      const t0 = performance.now();
      const ids = tok.encode(text);
      console.log(
        `encode ${JSON.stringify(u)} x ${text.length / u.length}: ${(performance.now() - t0).toFixed(0)} ms`,
      );
      expect(tok.decode(ids)).toBe(text);
    }
  });
});
