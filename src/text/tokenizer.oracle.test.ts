// Our tokenizer against tiktoken (the library Kimi's tokenizer calls) on the same vocabulary,
// specials and pattern: encode and decode must agree exactly on every corpus string.
import { Tiktoken } from 'tiktoken/lite';
import { afterAll, describe, expect, it } from 'vitest';
import { mulberry32 } from '../testing/random.ts';
import { loadTokenizer, makeOracle, TEST_VOCAB_DIR, tinyTokenizerDir } from './fixtures/node_helpers.ts';
import { HAND_CASES, LONG_CASES, oracleCorpus, randomCorpus } from './fixtures/oracle_corpus.ts';
import { KIMI_PAT_STR, pretokenize, toWellFormed } from './pretokenize.ts';

// ignoreBOM: keep a leading U+FEFF, as Python's bytes.decode('utf-8') does.
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

function firstMismatches(
  tok: ReturnType<typeof loadTokenizer>,
  oracle: Tiktoken,
  corpus: string[],
): Array<{ text: string; ours: number[]; theirs: number[] }> {
  const bad = [];
  for (const text of corpus) {
    const ours = tok.encode(text);
    const theirs = [...oracle.encode(text, 'all')];
    if (ours.length !== theirs.length || ours.some((id, i) => id !== theirs[i])) {
      bad.push({
        text: JSON.stringify(text).slice(0, 200),
        ours: ours.slice(0, 40),
        theirs: theirs.slice(0, 40),
      });
      if (bad.length >= 5) break;
    }
  }
  return bad;
}

describe('tokenizer vs tiktoken on the test vocabulary (3000 merges, real special layout)', () => {
  const tok = loadTokenizer(TEST_VOCAB_DIR);
  const oracle = makeOracle(TEST_VOCAB_DIR, tok);
  afterAll(() => oracle.free());
  const corpus = oracleCorpus(2500);

  it('the corpus is big and varied enough to mean something', () => {
    expect(corpus.length).toBeGreaterThanOrEqual(2000);
    // Sanity of the fixture: the vocabulary really merges, so BPE order matters.
    expect(tok.encode(' the model').length).toBeLessThan(' the model'.length);
  });

  it('encodes every corpus string to the same ids', () => {
    expect(firstMismatches(tok, oracle, corpus)).toEqual([]);
  });

  it('encodes strings containing every special and a reserved special name', () => {
    const reserved = `<|reserved_token_${tok.numBaseTokens + 5}|>`;
    const names = [...tok.specialTokens.keys()];
    const texts = [
      names.join(''),
      names.join(' x '),
      `a${reserved}b`,
      `${names[3]}${names[3]}`,
      names.reverse().join('\n'),
    ];
    expect(firstMismatches(tok, oracle, texts)).toEqual([]);
    expect(tok.encode(reserved)).toEqual([tok.numBaseTokens + 5]);
  });

  it('decodes ids (bytes and text) like tiktoken, including random id soup that splits UTF-8', () => {
    const rand = mulberry32(7);
    const sequences: number[][] = corpus.slice(0, 600).map((t) => tok.encode(t));
    for (let i = 0; i < 300; i++) {
      sequences.push(
        Array.from({ length: 1 + Math.floor(rand() * 20) }, () => Math.floor(rand() * tok.vocabSize)),
      );
    }
    for (const ids of sequences) {
      const theirs = oracle.decode(Uint32Array.from(ids));
      expect(tok.decodeBytes(ids)).toEqual(theirs);
      expect(tok.decode(ids)).toBe(utf8.decode(theirs));
    }
  });

  it('round-trips text, with lone surrogates becoming U+FFFD', () => {
    for (const text of [...HAND_CASES, ...LONG_CASES, ...randomCorpus(300, 99)]) {
      expect(tok.decode(tok.encode(text))).toBe(toWellFormed(text));
    }
  });

  it('skipSpecialTokens drops exactly the special ids', () => {
    const text = '<|im_user|>user<|im_middle|>你好 😀<|im_end|>[PAD]';
    const ids = tok.encode(text);
    expect(tok.decode(ids, { skipSpecialTokens: true })).toBe('user你好 😀');
    // A special between the bytes of one character breaks it; replacement, not an exception.
    const smile = tok.encode('😀');
    const split = [...tok.decodeBytes(smile)].map((b) => tok.encode(String.fromCharCode(b)));
    expect(split.length).toBe(4);
  });

  it('rejects ids outside the vocabulary', () => {
    expect(() => tok.decode([tok.vocabSize])).toThrow(/outside the vocabulary/);
    expect(() => tok.decode([-1])).toThrow(/outside the vocabulary/);
    expect(() => tok.decode([1.5])).toThrow(/outside the vocabulary/);
  });
});

describe.each([512, 1000])('tiny tokenizer %i vs tiktoken', (vocabSize) => {
  const dir = tinyTokenizerDir(vocabSize);
  const tok = loadTokenizer(dir);
  const oracle = makeOracle(dir, tok);
  afterAll(() => oracle.free());

  it('fits the tiny model layout: S = V - 32 base ids, specials up to V - 1', () => {
    const s = vocabSize - 32;
    expect(tok.numBaseTokens).toBe(s);
    expect(tok.vocabSize).toBe(vocabSize);
    const expected: Record<string, number> = {
      '[BOS]': s,
      '[EOS]': s + 1,
      '<|im_end|>': s + 2,
      '<|im_user|>': s + 3,
      '<|im_assistant|>': s + 4,
      '<|im_system|>': s + 10,
      '<|im_middle|>': s + 17,
      '<|media_start|>': s + 18,
      '<|media_content|>': s + 19,
      '<|media_end|>': s + 20,
      '<|media_pad|>': s + 21,
      '[UNK]': vocabSize - 2,
      '[PAD]': vocabSize - 1,
    };
    for (const [name, id] of Object.entries(expected)) expect(tok.specialTokenId(name)).toBe(id);
    expect(tok.decode([s + 5])).toBe(`<|reserved_token_${s + 5}|>`);
  });

  it('encodes like tiktoken', () => {
    expect(firstMismatches(tok, oracle, [...HAND_CASES, ...randomCorpus(400, vocabSize)])).toEqual([]);
  });
});

describe('pre-tokenisation pieces match tiktoken exactly', () => {
  // With every substring of the input in the vocabulary, tiktoken maps each pre-token to a single
  // id (it takes whole pieces that are tokens as is), so its output spells out its segmentation.
  function tiktokenPieces(text: string): string[] {
    const bytes = new TextEncoder().encode(text);
    const seen = new Set<string>();
    const lines: string[] = [];
    const add = (bin: string) => {
      if (seen.has(bin)) return;
      seen.add(bin);
      lines.push(`${btoa(bin)} ${lines.length}`);
    };
    for (let b = 0; b < 256; b++) add(String.fromCharCode(b));
    const bin = String.fromCharCode(...bytes);
    for (let i = 0; i < bin.length; i++) for (let j = i + 2; j <= bin.length; j++) add(bin.slice(i, j));
    const oracle = new Tiktoken(lines.join('\n'), {}, KIMI_PAT_STR);
    try {
      return [...oracle.encode_ordinary(text)].map((id) => utf8.decode(oracle.decode_single_token_bytes(id)));
    } finally {
      oracle.free();
    }
  }

  const short = [...HAND_CASES, ...randomCorpus(400, 4242)]
    .map(toWellFormed)
    .map((s) => Array.from(s).slice(0, 24).join(''))
    .filter((s) => s.length > 0);

  it('on hand-written and random short strings', () => {
    const bad = [];
    for (const text of short) {
      const ours = [...pretokenize(text)];
      const theirs = tiktokenPieces(text);
      if (JSON.stringify(ours) !== JSON.stringify(theirs)) bad.push({ text, ours, theirs });
    }
    expect(bad.slice(0, 5)).toEqual([]);
  });

  it('on every whitespace character and a sample of every letter/number class', () => {
    const chars = [
      '\t',
      '\n',
      '\v',
      '\f',
      '\r',
      ' ',
      '\u0085',
      '\u00a0',
      '\u1680',
      '\u2000',
      '\u200a',
      '\u2028',
      '\u2029',
      '\u202f',
      '\u205f',
      '\u3000',
      '\ufeff',
      '\u200b',
      '\u180e',
      '\u001c',
      'ſ',
      'K',
      'ǅ',
      'ʰ',
      'ー',
      '々',
      '〇',
      '〡',
      '⺀',
      '㐀',
      '\u0301',
      '\u0903',
      '²',
      '½',
      'Ⅻ',
    ];
    const bad = [];
    for (const c of chars) {
      for (const text of [`a${c}b`, `${c}${c}x`, `x${c}\n`, `'${c}`, `a'${c}`, `A${c}'s`, `${c}1`]) {
        const ours = [...pretokenize(text)];
        const theirs = tiktokenPieces(text);
        if (JSON.stringify(ours) !== JSON.stringify(theirs)) bad.push({ text, ours, theirs });
      }
    }
    expect(bad).toEqual([]);
  });
});
