// What a finished generation reports: token counts and the times a person asks about first
// (time to first token, prefill and decode speed, image encode time).

export interface Usage {
  promptTokens: number;
  /** Prompt tokens that a previous turn had already computed (KV cache prefix reuse). */
  cachedPromptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

export interface Timings {
  /** Image decode + preprocess + vision tower + projector, ms (0 without images). */
  imageEncodeMs: number;
  /** Prompt tokens actually computed / prefill seconds. */
  prefillTokensPerSecond: number;
  /** From the request's start to the first generated token, ms (includes queueing in the engine). */
  timeToFirstTokenMs: number;
  /** Generated tokens after the first / their seconds (0 with fewer than two tokens). */
  decodeTokensPerSecond: number;
  totalMs: number;
}

/** Collects timestamps during one request; `now` is injectable for tests. */
export class TimingRecorder {
  private readonly t0: number;
  private imageMs = 0;
  private prefillStart = 0;
  private prefillEnd = 0;
  private prefillTokens = 0;
  private firstTokenAt = -1;
  private lastTokenAt = -1;
  private tokens = 0;

  constructor(private readonly now: () => number = () => performance.now()) {
    this.t0 = now();
  }

  addImageEncode(ms: number): void {
    this.imageMs += ms;
  }

  prefillStarted(): void {
    this.prefillStart = this.now();
  }

  /** Called when the prefill's logits are ready (its first token is sampled right after). */
  prefillDone(computedTokens: number): void {
    this.prefillEnd = this.now();
    this.prefillTokens = computedTokens;
  }

  tokenGenerated(): void {
    const t = this.now();
    if (this.firstTokenAt < 0) this.firstTokenAt = t;
    this.lastTokenAt = t;
    this.tokens++;
  }

  finish(): Timings {
    const end = this.now();
    const prefillS = (this.prefillEnd - this.prefillStart) / 1000;
    const decodeS = (this.lastTokenAt - this.firstTokenAt) / 1000;
    return {
      imageEncodeMs: this.imageMs,
      prefillTokensPerSecond: prefillS > 0 ? this.prefillTokens / prefillS : 0,
      timeToFirstTokenMs: this.firstTokenAt >= 0 ? this.firstTokenAt - this.t0 : 0,
      decodeTokensPerSecond: this.tokens > 1 && decodeS > 0 ? (this.tokens - 1) / decodeS : 0,
      totalMs: end - this.t0,
    };
  }
}
