// Stop strings (OpenAI `stop`): matched on the detokenized answer text, so a stop string that spans
// several tokens (or starts in the middle of one) is found. Text that could still be the start of a
// stop string is held back until the next token decides; the stop string itself is never emitted.
// Only the answer channel is searched: a Thinking model's reasoning is not cut by the answer's stops.
import type { AnswerEvent, ReasoningEvent } from './events.ts';

/** The streaming matcher for one request. */
export class StopStringMatcher {
  /** True once a stop string was seen; nothing more comes out. */
  stopped = false;
  private held = '';

  constructor(private readonly stops: readonly string[]) {}

  /** Adds answer text; returns the part that is certainly before any stop string. */
  push(text: string): string {
    if (this.stopped) return '';
    const buf = this.held + text;
    let at = -1;
    for (const s of this.stops) {
      const i = buf.indexOf(s);
      if (i >= 0 && (at < 0 || i < at)) at = i;
    }
    if (at >= 0) {
      this.stopped = true;
      this.held = '';
      return buf.slice(0, at);
    }
    const keep = this.pendingSuffix(buf);
    this.held = buf.slice(buf.length - keep);
    return buf.slice(0, buf.length - keep);
  }

  /** The stream ended without a stop string: what was held back comes out. */
  flush(): string {
    const out = this.stopped ? '' : this.held;
    this.held = '';
    return out;
  }

  /** Length of the longest suffix of `buf` that is a proper prefix of some stop string. */
  private pendingSuffix(buf: string): number {
    let best = 0;
    for (const s of this.stops) {
      for (let n = Math.min(s.length - 1, buf.length); n > best; n--) {
        if (buf.endsWith(s.slice(0, n))) {
          best = n;
          break;
        }
      }
    }
    return best;
  }
}

type TextEvent = AnswerEvent | ReasoningEvent;

/** What run_request drives: TextEventStream satisfies it. */
export interface TextEvents {
  readonly channel: 'answer' | 'reasoning';
  readonly answer: string;
  readonly reasoning: string;
  push(id: number): TextEvent[];
  flush(): TextEvent[];
}

/**
 * A text event stream whose answer ends at the first stop string. `answer` is the emitted answer (cut
 * before the stop string); `stopped` tells the generation loop to end the request as 'stop'.
 */
export class StopStringText implements TextEvents {
  answer = '';
  private readonly matcher: StopStringMatcher;

  constructor(
    private readonly inner: TextEvents,
    stops: readonly string[],
  ) {
    this.matcher = new StopStringMatcher(stops);
  }

  get stopped(): boolean {
    return this.matcher.stopped;
  }

  get channel(): 'answer' | 'reasoning' {
    return this.inner.channel;
  }

  get reasoning(): string {
    return this.inner.reasoning;
  }

  push(id: number): TextEvent[] {
    return this.filter(this.inner.push(id), false);
  }

  flush(): TextEvent[] {
    return this.filter(this.inner.flush(), true);
  }

  private filter(events: TextEvent[], end: boolean): TextEvent[] {
    const out: TextEvent[] = [];
    const answer = (text: string) => {
      if (!text) return;
      this.answer += text;
      const last = out[out.length - 1];
      if (last?.type === 'answer') last.text += text;
      else out.push({ type: 'answer', text });
    };
    for (const e of events) {
      if (this.matcher.stopped) break;
      if (e.type === 'reasoning') out.push(e);
      else answer(this.matcher.push(e.text));
    }
    if (end) answer(this.matcher.flush());
    return out;
  }
}

/** Wraps a request's text stream with its stop strings (null stays null: no tokenizer, no text). */
export function withStopStrings(inner: TextEvents | null, stops: readonly string[]): StopStringText | null {
  return inner ? new StopStringText(inner, stops) : null;
}
