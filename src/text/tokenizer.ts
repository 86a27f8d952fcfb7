// Kimi's tokenizer (tokenization_moonshot.py `TikTokenTokenizer`, spec 6): tiktoken byte-level BPE
// over Kimi's pre-tokenisation, with every special-token string recognised in the input
// (`allowed_special="all"`) by encode(); chat prompts use encodeWithPlainSpans so that message text
// cannot smuggle special tokens in. Pure TypeScript with no Node APIs, so it runs in a Web Worker.
import { KimiVLError } from '../errors.ts';
import { bytePairEncode, type RankMap, utf8Binary } from './bpe.ts';
import { JinjaChatTemplate, templateFromTokenizerConfig } from './jinja_template.ts';
import { kimiPretokenizeRegex, splitForEncode, toWellFormed } from './pretokenize.ts';
import { type BaseVocab, parseTiktokenModel, specialTokensFromConfig } from './vocab.ts';

export interface DecodeOptions {
  /** Drop special ids before decoding (HF `skip_special_tokens=True`). */
  skipSpecialTokens?: boolean;
}

// Pieces repeat a lot in natural text; caching them skips the BPE. Bounded so a long session
// cannot grow it without limit, and long pieces (rarely repeated) are not cached.
const PIECE_CACHE_LIMIT = 100_000;
const PIECE_CACHE_MAX_LEN = 64;

export class Tokenizer {
  /** Ids below this are BPE tokens; ids from here on are special. */
  readonly numBaseTokens: number;
  /** numBaseTokens + number of special ids. */
  readonly vocabSize: number;
  /** Every special token (named and reserved) → id. */
  readonly specialTokens: ReadonlyMap<string, number>;

  private readonly ranks: RankMap;
  private readonly baseBytes: Uint8Array;
  private readonly baseOffsets: Uint32Array;
  private readonly specialNames: string[];
  private readonly specialRegex: RegExp;
  private readonly pretokenizeRegex = kimiPretokenizeRegex();
  private readonly pieceCache = new Map<string, readonly number[]>();
  private readonly utf8 = new TextEncoder();

  private constructor(vocab: BaseVocab, specials: Map<string, number>) {
    this.ranks = vocab.ranks;
    this.baseBytes = vocab.bytes;
    this.baseOffsets = vocab.offsets;
    this.numBaseTokens = vocab.size;
    this.specialTokens = specials;
    this.vocabSize = this.numBaseTokens + specials.size;
    this.specialNames = [];
    for (const [name, id] of specials) this.specialNames[id - this.numBaseTokens] = name;
    // Longest first, so that a name that is a prefix of another never wins at the same position.
    const alternatives = [...specials.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp);
    this.specialRegex = new RegExp(alternatives.join('|'), 'g');
  }

  /**
   * The repo's own chat template (chat_template.jinja, else tokenizer_config.json's chat_template),
   * or null: the built-in Kimi-VL renderer is used.
   */
  chatTemplate: JinjaChatTemplate | null = null;

  /**
   * Builds a tokenizer from the text of `tiktoken.model` and `tokenizer_config.json`, and the repo's
   * `chat_template.jinja` when it has one (it wins over the config's template, as in transformers).
   */
  static fromFiles(
    tiktokenModelText: string,
    tokenizerConfigJson: string,
    chatTemplateJinja: string | null = null,
  ): Tokenizer {
    const vocab = parseTiktokenModel(tiktokenModelText);
    const tok = new Tokenizer(vocab, specialTokensFromConfig(tokenizerConfigJson, vocab.size));
    const { template, context } = templateFromTokenizerConfig(tokenizerConfigJson);
    const source = chatTemplateJinja ?? template;
    if (source) tok.chatTemplate = new JinjaChatTemplate(source, context);
    return tok;
  }

  /** Text → ids. Special-token strings in the text become their ids, as HF's `encode` does. */
  encode(text: string): number[] {
    const ids: number[] = [];
    for (const chunk of splitForEncode(toWellFormed(text))) {
      const re = this.specialRegex;
      re.lastIndex = 0;
      let start = 0;
      for (let m = re.exec(chunk); m !== null; m = re.exec(chunk)) {
        this.encodeOrdinaryInto(chunk.slice(start, m.index), ids);
        ids.push(this.specialTokens.get(m[0])!);
        start = m.index + m[0].length;
      }
      this.encodeOrdinaryInto(chunk.slice(start), ids);
    }
    return ids;
  }

  /**
   * Text → ids where special-token strings count only outside `plainSpans` (sorted, disjoint
   * [start, end) UTF-16 ranges of message text): a tag the template wrote is a special token, the same
   * characters typed by a user are text. The BPE runs over the whole string as encode() does, so with
   * no special-token string inside the spans the ids equal encode(text).
   */
  encodeWithPlainSpans(text: string, plainSpans: ReadonlyArray<readonly [number, number]>): number[] {
    const ids: number[] = [];
    let offset = 0; // chunks concatenate to the well-formed text, which has the input's UTF-16 length
    for (const chunk of splitForEncode(toWellFormed(text))) {
      const re = this.specialRegex;
      re.lastIndex = 0;
      let start = 0;
      for (let m = re.exec(chunk); m !== null; m = re.exec(chunk)) {
        const a = offset + m.index;
        const b = a + m[0].length;
        if (plainSpans.some(([s, e]) => a < e && b > s)) {
          re.lastIndex = m.index + 1; // text, not a tag: a tag may still start inside it
          continue;
        }
        this.encodeOrdinaryInto(chunk.slice(start, m.index), ids);
        ids.push(this.specialTokens.get(m[0])!);
        start = m.index + m[0].length;
      }
      this.encodeOrdinaryInto(chunk.slice(start), ids);
      offset += chunk.length;
    }
    return ids;
  }

  /** Text → ids with special-token strings treated as plain text. */
  encodeOrdinary(text: string): number[] {
    const ids: number[] = [];
    for (const chunk of splitForEncode(toWellFormed(text))) this.encodeOrdinaryInto(chunk, ids);
    return ids;
  }

  private encodeOrdinaryInto(text: string, out: number[]): void {
    if (text === '') return;
    const re = this.pretokenizeRegex;
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      const piece = m[0];
      const cached = this.pieceCache.get(piece);
      if (cached) {
        for (const id of cached) out.push(id);
        continue;
      }
      const bin = utf8Binary(piece);
      // tiktoken takes a piece that is itself a token as is, without running the merges.
      const whole = this.ranks.get(bin);
      const ids = whole !== undefined ? [whole] : bytePairEncode(bin, this.ranks);
      if (piece.length <= PIECE_CACHE_MAX_LEN) {
        if (this.pieceCache.size >= PIECE_CACHE_LIMIT) this.pieceCache.clear();
        this.pieceCache.set(piece, ids);
      }
      for (const id of ids) out.push(id);
    }
  }

  /** ids → the concatenation of their bytes (special tokens contribute their name's UTF-8). */
  decodeBytes(ids: ArrayLike<number>, options: DecodeOptions = {}): Uint8Array {
    const parts: Uint8Array[] = [];
    let total = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (options.skipSpecialTokens && this.isSpecial(id)) continue;
      const bytes = this.tokenToBytes(id);
      parts.push(bytes);
      total += bytes.length;
    }
    const out = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  /**
   * ids → text; invalid UTF-8 becomes U+FFFD (Python `errors="replace"`). A leading U+FEFF is
   * kept (Python's 'utf-8' codec does not strip a BOM; TextDecoder does unless told not to).
   */
  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    return new TextDecoder('utf-8', { ignoreBOM: true }).decode(this.decodeBytes(ids, options));
  }

  /** The bytes of one id (a view: do not modify); throws for ids outside the vocabulary. */
  tokenToBytes(id: number): Uint8Array {
    if (Number.isInteger(id) && id >= 0 && id < this.numBaseTokens) {
      return this.baseBytes.subarray(this.baseOffsets[id], this.baseOffsets[id + 1]);
    }
    const name = Number.isInteger(id) ? this.specialNames[id - this.numBaseTokens] : undefined;
    if (name === undefined) {
      throw new KimiVLError(
        'TokenizerError',
        `token id ${id} is outside the vocabulary (0..${this.vocabSize - 1})`,
      );
    }
    return this.utf8.encode(name);
  }

  isSpecial(id: number): boolean {
    return id >= this.numBaseTokens && id < this.vocabSize;
  }

  /** The id of a special token by name, e.g. `<|im_end|>`; throws if this vocabulary lacks it. */
  specialTokenId(name: string): number {
    const id = this.specialTokens.get(name);
    if (id === undefined) {
      throw new KimiVLError('TokenizerError', `the tokenizer has no special token "${name}"`);
    }
    return id;
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/** Fetches `tiktoken.model` and `tokenizer_config.json` from a folder URL and builds the tokenizer. */
export async function loadTokenizerFromUrl(baseUrl: string | URL, init?: RequestInit): Promise<Tokenizer> {
  const folder = String(baseUrl).endsWith('/') ? String(baseUrl) : `${baseUrl}/`;
  let base: URL;
  try {
    // Relative URLs resolve against the page (or the worker's script) location.
    base = new URL(folder, globalThis.location?.href);
  } catch (e) {
    throw new KimiVLError('ConfigError', `tokenizer URL "${folder}" is not a valid absolute URL here`, {
      cause: e,
    });
  }
  /** The file's text, or null when `optional` and the server lacks it (404, or an SPA's HTML page). */
  const fetchText = async (name: string, optional = false): Promise<string | null> => {
    const url = new URL(name, base);
    let res: Response;
    try {
      res = await fetch(url, init);
    } catch (e) {
      if (optional) return null;
      throw new KimiVLError(
        'DownloadError',
        `could not fetch ${url}: check the tokenizer URL and the network`,
        {
          cause: e,
        },
      );
    }
    const html = /^text\/html\b/i.test(res.headers.get('content-type') ?? '');
    if (optional && (res.status === 404 || res.status === 410 || (res.ok && html))) return null;
    if (!res.ok) throw new KimiVLError('DownloadError', `fetching ${url} failed with HTTP ${res.status}`);
    if (html)
      throw new KimiVLError(
        'DownloadError',
        `${url} answered with an HTML page (a web app's fallback?) instead of ${name}; check the tokenizer URL`,
      );
    return res.text();
  };
  const [model, config, template] = await Promise.all([
    fetchText('tiktoken.model'),
    fetchText('tokenizer_config.json'),
    fetchText('chat_template.jinja', true),
  ]);
  return Tokenizer.fromFiles(model!, config!, template);
}
