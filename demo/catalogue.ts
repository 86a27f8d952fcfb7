// The models the demo offers, as data: the bundled tiny checkpoints (served from public/models/) and
// the real Kimi-VL releases on Hugging Face. Sizes and fits come from each model's config.json through
// the memory plan (memory.ts); a bundled entry whose folder is not on the server is not shown.
import realConfig from '../configs/Kimi-VL-A3B-Instruct.config.json';

export interface CatalogueEntry {
  /** Stable key (also `?model=` on the page). */
  key: string;
  label: string;
  /** What KimiVL.load takes: a folder URL relative to the page, or a Hugging Face repo id. */
  source: string;
  bundled: boolean;
  thinking: boolean;
  /** config.json as JSON, or null to fetch `${source}config.json` (bundled folders). */
  config: unknown | null;
  /** Shown under the model panel while this model is loaded. */
  note: string;
  /** Image-token budget of a dropped video (divided across its frames). */
  video: { fps: number; maxFrames: number; maxImageTokens: number };
}

/** Bundled folders live in public/models/: the server root in dev, beside index.html in a build. */
const bundled = (name: string) => `${import.meta.env.BASE_URL}models/${name}/`;

const TINY_VIDEO = { fps: 4, maxFrames: 4, maxImageTokens: 64 };
const REAL_VIDEO = { fps: 1, maxFrames: 8, maxImageTokens: 1024 };
const REAL_NOTE = 'Downloaded once from Hugging Face into this browser’s storage, then it works offline.';

export const CATALOGUE: readonly CatalogueEntry[] = [
  {
    key: 'kimi-vl-tiny-instruct',
    label: 'Kimi-VL tiny Instruct (bundled)',
    source: bundled('kimi-vl-tiny-instruct'),
    bundled: true,
    thinking: false,
    config: null,
    note: 'A tiny Kimi-VL trained on simple shape pictures: ask what is in a picture, how many shapes, the background colour, or whether there is a circle, square or triangle.',
    video: TINY_VIDEO,
  },
  {
    key: 'kimi-vl-tiny-thinking',
    label: 'Kimi-VL tiny Thinking (bundled)',
    source: bundled('kimi-vl-tiny-thinking'),
    bundled: true,
    thinking: true,
    config: null,
    note: 'The tiny model’s Thinking variant: it reasons in ◁think▷ … ◁/think▷ before it answers.',
    video: TINY_VIDEO,
  },
  {
    key: 'kimi-vl-tiny',
    label: 'kimi-vl-tiny (bundled, random weights)',
    source: bundled('kimi-vl-tiny'),
    bundled: true,
    thinking: false,
    config: null,
    note: 'This bundled tiny model has random weights: it exercises the whole engine (vision tower, mixture-of-experts language model, tokenizer) in under 1 MB, but its answers are meaningless. Load a real Kimi-VL for real answers.',
    video: TINY_VIDEO,
  },
  // The three releases share one architecture (configs/Kimi-VL-A3B-Instruct.config.json).
  {
    key: 'Kimi-VL-A3B-Instruct',
    label: 'Kimi-VL-A3B-Instruct',
    source: 'moonshotai/Kimi-VL-A3B-Instruct',
    bundled: false,
    thinking: false,
    config: realConfig,
    note: REAL_NOTE,
    video: REAL_VIDEO,
  },
  {
    key: 'Kimi-VL-A3B-Thinking',
    label: 'Kimi-VL-A3B-Thinking',
    source: 'moonshotai/Kimi-VL-A3B-Thinking',
    bundled: false,
    thinking: true,
    config: realConfig,
    note: REAL_NOTE,
    video: REAL_VIDEO,
  },
  {
    key: 'Kimi-VL-A3B-Thinking-2506',
    label: 'Kimi-VL-A3B-Thinking-2506',
    source: 'moonshotai/Kimi-VL-A3B-Thinking-2506',
    bundled: false,
    thinking: true,
    config: realConfig,
    note: REAL_NOTE,
    video: REAL_VIDEO,
  },
];

/** The model the page opens with: the trained tiny Instruct model (scripts/train/), 1.4 MB. */
export const DEFAULT_MODEL_KEY = 'kimi-vl-tiny-instruct';

export const entryByKey = (key: string) => CATALOGUE.find((e) => e.key === key);

/** The entry a free-form source (a typed URL or repo id) matches, if any. */
export function entryForSource(source: string): CatalogueEntry | undefined {
  const norm = (s: string) => (/^\.{0,2}\/|^https?:/i.test(s) ? new URL(s, location.href).href : s);
  return CATALOGUE.find((e) => norm(e.source) === norm(source));
}

/** The id the engine's model cache files this entry under (src/weights/source.ts). */
export function cacheId(source: string): string {
  if (/^\.{0,2}\/|^https?:/i.test(source)) {
    const u = new URL(source, location.href);
    u.hash = '';
    u.search = '';
    return `url:${u.href.endsWith('/') ? u.href : `${u.href}/`}`;
  }
  return `hf:${source.includes('@') ? source : `${source}@main`}`;
}
