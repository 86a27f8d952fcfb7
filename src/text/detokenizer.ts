// Streaming detokenizer: ids arrive one at a time during generation and the text is shown as it
// grows. A token may end in the middle of a UTF-8 sequence (an emoji is often 2-4 byte tokens), so
// incomplete bytes are held until the sequence completes; each push returns only the new text.
// The concatenation of all deltas plus flush() equals tokenizer.decode(allIds) exactly.

/** What the detokenizer needs from a tokenizer (Tokenizer satisfies it). */
export interface TokenBytesSource {
  tokenToBytes(id: number): Uint8Array;
  isSpecial(id: number): boolean;
}

export interface DetokenizerOptions {
  /** Drop special ids (HF `skip_special_tokens=True`), e.g. the closing `<|im_end|>`. */
  skipSpecialTokens?: boolean;
}

export class StreamingDetokenizer {
  // A streaming TextDecoder holds an incomplete trailing sequence between calls and replaces
  // invalid bytes with U+FFFD exactly as a one-shot decode of the whole byte string would.
  // ignoreBOM keeps a leading U+FEFF, as Python's 'utf-8' codec does.
  private decoder = new TextDecoder('utf-8', { ignoreBOM: true });

  constructor(
    private readonly tokens: TokenBytesSource,
    private readonly options: DetokenizerOptions = {},
  ) {}

  /** Adds one id; returns the text it completes (possibly ''). */
  push(id: number): string {
    if (this.options.skipSpecialTokens && this.tokens.isSpecial(id)) return '';
    return this.decoder.decode(this.tokens.tokenToBytes(id), { stream: true });
  }

  /** Adds several ids; returns their combined delta. */
  pushAll(ids: Iterable<number>): string {
    let out = '';
    for (const id of ids) out += this.push(id);
    return out;
  }

  /** Ends the stream: bytes of an unfinished character become U+FFFD. A new stream may follow. */
  flush(): string {
    const delta = this.decoder.decode();
    this.decoder = new TextDecoder('utf-8', { ignoreBOM: true });
    return delta;
  }
}
