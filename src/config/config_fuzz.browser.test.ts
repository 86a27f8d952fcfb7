// Config fuzz in real Chromium: 150 seeded random and extreme config.json files through openCheckpoint
// (in memory, as in Node), and 40 more through the browser loader itself (loadModel over local Files:
// the bundled tiny model with its config.json replaced). The page must survive every one (the
// num_hidden_layers 1e6 config used to crash the tab), each ending as a good open or a typed
// ConfigError / CheckpointError, in bounded time and JS heap.
import { describe, expect, it } from 'vitest';
import { isKimiVLError } from '../errors.ts';
import {
  ALLOWED_OUTCOMES,
  fuzzCase,
  runFuzzCase,
  shardBytes,
  tinyConfigJson,
} from '../testing/config_fuzz.ts';
import { loadModel } from '../weights/load.ts';

const IN_MEMORY_CASES = 150;
const LOADER_CASES = 40;
const MAX_CASE_MS = 5000;
const MAX_HEAP_GROWTH = 256 * 2 ** 20;
const TINY = '/models/kimi-vl-tiny/'; // public/ is served at the root
const TINY_FILES = [
  'model.safetensors.index.json',
  'model-00001-of-00002.safetensors',
  'model-00002-of-00002.safetensors',
  'preprocessor_config.json',
  'tiktoken.model',
  'tokenizer_config.json',
];

/** Chrome's non-standard heap figure (0 where absent: the time bound still holds). */
const heap = () => (performance as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? 0;

describe('config fuzz (browser)', () => {
  it(`${IN_MEMORY_CASES} seeded configs through openCheckpoint: typed errors only`, async () => {
    const heap0 = heap();
    for (let seed = 5001; seed < 5001 + IN_MEMORY_CASES; seed++) {
      const r = await runFuzzCase(seed);
      const what = `seed ${seed} (${r.edits.join('; ')}): ${r.outcome} ${r.message}`;
      expect(ALLOWED_OUTCOMES, what).toContain(r.outcome);
      expect(r.ms, what).toBeLessThan(MAX_CASE_MS);
      expect(r.bytesRead, what).toBeLessThan(shardBytes());
    }
    expect(heap() - heap0).toBeLessThan(MAX_HEAP_GROWTH);
  });

  it(`${LOADER_CASES} seeded configs (and num_hidden_layers 1e6) through loadModel over local files`, async () => {
    const files = await Promise.all(
      TINY_FILES.map(async (name) => new File([await (await fetch(TINY + name)).blob()], name)),
    );
    const withConfig = (config: unknown) => [
      new File([JSON.stringify(config) ?? 'null'], 'config.json'),
      ...files,
    ];
    const tiny = tinyConfigJson() as { text_config: Record<string, unknown> };
    const cases: Array<{ what: string; config: unknown; want?: string }> = [
      // The files are real: the unchanged config opens (so a refusal below is the config's doing).
      { what: 'tiny config unchanged', config: tiny, want: 'ok' },
      {
        what: 'num_hidden_layers 1e6',
        config: { ...tiny, text_config: { ...tiny.text_config, num_hidden_layers: 1e6 } },
        want: 'ConfigError',
      },
    ];
    for (let seed = 9001; cases.length < LOADER_CASES + 2; seed++) {
      const c = fuzzCase(seed);
      cases.push({ what: `seed ${seed} (${c.edits.join('; ')})`, config: c.config });
    }
    const outcomes = new Set<string>();
    for (const c of cases) {
      const t0 = performance.now();
      const outcome = await loadModel({ files: withConfig(c.config) }).then(
        () => 'ok',
        (e: unknown) => (isKimiVLError(e) ? (e as Error).name : `untyped ${String(e)}`),
      );
      expect(ALLOWED_OUTCOMES, `${c.what}: ${outcome}`).toContain(outcome);
      if (c.want) expect(outcome, c.what).toBe(c.want);
      expect(performance.now() - t0, c.what).toBeLessThan(MAX_CASE_MS);
      outcomes.add(outcome);
    }
    expect(outcomes.has('ConfigError')).toBe(true);
  });
});
