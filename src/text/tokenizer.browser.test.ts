// The tokenizer in real Chromium (no GPU needed): the same ids as tiktoken on the committed oracle
// fixture, files loaded over HTTP like the demo does, and the 100 KB encode time (logged only).
import { describe, expect, it } from 'vitest';
import { buildPromptIds } from './chat_template.ts';
import { StreamingDetokenizer } from './detokenizer.ts';
import { mixedText } from './fixtures/mixed_text.ts';
import { loadTokenizerFromUrl } from './tokenizer.ts';

// Served by Vite from the repository root. The fixture is fetched, not imported: it holds lone
// surrogates (\ud800 escapes) that Vite's JSON plugin rejects and JSON.parse accepts.
const tok = await loadTokenizerFromUrl('/src/text/fixtures/test-vocab/');
const fixture = (await (await fetch('/src/text/fixtures/oracle-ids.json')).json()) as {
  cases: Array<{ text: string; ids: number[] }>;
};

describe('tokenizer in the browser', () => {
  it('encodes every fixture string to the oracle ids and decodes back', () => {
    expect(fixture.cases.length).toBeGreaterThanOrEqual(300);
    let mismatches = 0;
    for (const { text, ids } of fixture.cases) {
      const ours = tok.encode(text);
      if (JSON.stringify(ours) !== JSON.stringify(ids)) {
        if (mismatches++ < 5) console.log('mismatch', JSON.stringify(text), ours, ids);
      }
      expect(tok.decode(ids)).toBe(text.replace(/\p{Cs}/gu, '\ufffd'));
    }
    expect(mismatches).toBe(0);
  });

  it('streams the fixture back through the detokenizer', () => {
    for (const { text, ids } of fixture.cases.slice(0, 100)) {
      const d = new StreamingDetokenizer(tok);
      expect(d.pushAll(ids) + d.flush()).toBe(text.replace(/\p{Cs}/gu, '\ufffd'));
    }
  });

  it('loads a bundled tiny tokenizer from public/ and builds a prompt', async () => {
    const tiny = await loadTokenizerFromUrl('/tokenizers/tiny-512');
    expect(tiny.vocabSize).toBe(512);
    const ids = buildPromptIds(
      tiny,
      [{ role: 'user', content: [{ type: 'image' }, { type: 'text', text: 'Hi' }] }],
      [[4, 6]],
    );
    expect(ids.filter((id) => id === 501)).toHaveLength(6);
    expect(ids.every((id) => id >= 0 && id < 512)).toBe(true);
  });

  it('encodes 100 KB of mixed text (time logged, not asserted)', () => {
    const text = mixedText(100_000, 11);
    const t0 = performance.now();
    const ids = tok.encode(text);
    const ms = performance.now() - t0;
    console.log(`browser encode 100 KB: ${ms.toFixed(0)} ms, ${ids.length} tokens`);
    expect(tok.decode(ids)).toBe(text);
  });
});
