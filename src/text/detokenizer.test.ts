import { describe, expect, it } from 'vitest';
import { bytePairEncode, bytesToBinary } from './bpe.ts';
import { StreamingDetokenizer } from './detokenizer.ts';
import { loadTokenizer, readTokenizerFiles, TEST_VOCAB_DIR } from './fixtures/node_helpers.ts';
import { parseTiktokenModel } from './vocab.ts';

const tok = loadTokenizer(TEST_VOCAB_DIR);
const { ranks } = parseTiktokenModel(readTokenizerFiles(TEST_VOCAB_DIR).model);
const encodeBytes = (bytes: Uint8Array): number[] =>
  bytes.length ? bytePairEncode(bytesToBinary(bytes), ranks) : [];
const utf8 = new TextEncoder();
// What Python's bytes.decode('utf-8', errors='replace') gives (maximal-subpart replacement).
const pythonDecode = (bytes: Uint8Array) => new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes);

function stream(ids: number[], skipSpecialTokens = false): string[] {
  const d = new StreamingDetokenizer(tok, { skipSpecialTokens });
  return [...ids.map((id) => d.push(id)), d.flush()];
}

const TEXTS = [
  '你好，世界',
  '日本語のテキスト',
  '😀👍🏽👨‍👩‍👧‍👦',
  'mixed 中文 and emoji 🎉 and ü, é, ß',
  '\ufeffBOM first',
  'ascii only',
  '한국어 🇳🇿',
];

describe('StreamingDetokenizer', () => {
  it('splitting the bytes at every point gives the exact text, never a broken character', () => {
    for (const text of TEXTS) {
      const bytes = utf8.encode(text);
      for (let k = 0; k <= bytes.length; k++) {
        const ids = [...encodeBytes(bytes.subarray(0, k)), ...encodeBytes(bytes.subarray(k))];
        const deltas = stream(ids);
        expect(deltas.join(''), `${text} split at byte ${k}`).toBe(text);
        for (const d of deltas) expect(d).not.toContain('\ufffd');
      }
    }
  });

  it('byte by byte, each character appears as soon as its last byte arrives', () => {
    for (const text of TEXTS) {
      const bytes = utf8.encode(text);
      const d = new StreamingDetokenizer(tok);
      let emitted = '';
      let completeUpTo = '';
      for (let i = 0; i < bytes.length; i++) {
        emitted += d.push(encodeBytes(bytes.subarray(i, i + 1))[0]!);
        // The longest prefix of whole characters within the first i+1 bytes.
        for (const ch of text.slice(completeUpTo.length)) {
          if (utf8.encode(completeUpTo + ch).length > i + 1) break;
          completeUpTo += ch;
        }
        expect(emitted).toBe(completeUpTo);
      }
      expect(emitted + d.flush()).toBe(text);
    }
  });

  it('real encodings stream to the same text as decode()', () => {
    for (const text of [...TEXTS, TEXTS.join('\n')]) {
      const ids = tok.encode(text);
      expect(stream(ids).join('')).toBe(tok.decode(ids));
    }
  });

  it('an unfinished character at the end becomes U+FFFD on flush (errors="replace")', () => {
    const bytes = utf8.encode('ok😀');
    const ids = encodeBytes(bytes.subarray(0, bytes.length - 1));
    const deltas = stream(ids);
    expect(deltas.slice(0, -1).join('')).toBe('ok');
    expect(deltas.at(-1)).toBe('\ufffd');
    expect(deltas.join('')).toBe(pythonDecode(bytes.subarray(0, bytes.length - 1)));
  });

  it('invalid bytes and specials inside a character match a one-shot decode', () => {
    const smile = utf8.encode('😀');
    const imEnd = tok.specialTokenId('<|im_end|>');
    const cases: number[][] = [
      [...encodeBytes(smile.subarray(0, 2)), imEnd, ...encodeBytes(smile.subarray(2))],
      [...encodeBytes(Uint8Array.of(0xff, 0x41, 0xc3)), ...encodeBytes(Uint8Array.of(0xa9, 0x80))],
      [...encodeBytes(Uint8Array.of(0xe4, 0xb8)), ...encodeBytes(Uint8Array.of(0x41))],
    ];
    for (const ids of cases) {
      expect(stream(ids).join('')).toBe(tok.decode(ids));
      expect(stream(ids, true).join('')).toBe(tok.decode(ids, { skipSpecialTokens: true }));
    }
    // Skipping the special lets the two halves of the emoji meet again.
    expect(stream(cases[0]!, true).join('')).toBe('😀');
    expect(stream(cases[0]!).join('')).toBe('\ufffd<|im_end|>\ufffd\ufffd'); // two stray continuation bytes
  });

  it('flush resets, so the instance can serve a second stream', () => {
    const d = new StreamingDetokenizer(tok);
    d.push(encodeBytes(Uint8Array.of(0xe4))[0]!);
    expect(d.flush()).toBe('\ufffd');
    expect(d.pushAll(tok.encode('再见')) + d.flush()).toBe('再见');
  });
});
