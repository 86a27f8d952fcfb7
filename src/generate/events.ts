// What a chat request streams, and the step that turns generated ids into those events: ids →
// streaming detokenizer (whole UTF-8 characters only) → thinking splitter (reasoning vs answer).
import type { StreamingDetokenizer } from '../text/detokenizer.ts';
import type { ThinkingSplitter } from '../text/thinking.ts';
import type { FinishReason } from './generate.ts';
import type { Timings, Usage } from './timings.ts';

export type { FinishReason } from './generate.ts';
export type { Timings, Usage } from './timings.ts';

/** A generated id as sampled (only with `tokenEvents: true`); `forced`: injected, not sampled. */
export interface TokenEvent {
  type: 'token';
  id: number;
  forced: boolean;
}

/** Text of the answer (Instruct models: everything). */
export interface AnswerEvent {
  type: 'answer';
  text: string;
}

/** Text of a Thinking model's reasoning (between ◁think▷ and ◁/think▷). */
export interface ReasoningEvent {
  type: 'reasoning';
  text: string;
}

/** Always the last event of a request. */
export interface DoneEvent {
  type: 'done';
  /** 'stop': the model ended its turn; 'length': maxTokens or the context budget; 'abort': cancelled. */
  finishReason: FinishReason;
  usage: Usage;
  timings: Timings;
  /** The whole answer and reasoning, as the deltas concatenate. */
  answer: string;
  reasoning: string;
}

export type ChatEvent = TokenEvent | AnswerEvent | ReasoningEvent | DoneEvent;

/** Turns generated ids into answer/reasoning events, keeping the running texts. */
export class TextEventStream {
  answer = '';
  reasoning = '';

  constructor(
    private readonly detok: StreamingDetokenizer,
    private readonly splitter: ThinkingSplitter,
  ) {}

  /** The channel the next text goes to. */
  get channel(): 'answer' | 'reasoning' {
    return this.splitter.channel;
  }

  push(id: number): Array<AnswerEvent | ReasoningEvent> {
    return this.route(this.splitter.push(this.detok.push(id)));
  }

  /** Ends the stream: held bytes and partial markers come out. */
  flush(): Array<AnswerEvent | ReasoningEvent> {
    const tail = this.splitter.push(this.detok.flush());
    return this.route([...tail, ...this.splitter.flush()]);
  }

  private route(deltas: ReturnType<ThinkingSplitter['push']>): Array<AnswerEvent | ReasoningEvent> {
    const out: Array<AnswerEvent | ReasoningEvent> = [];
    for (const d of deltas) {
      if (!d.text) continue;
      if (d.channel === 'answer') this.answer += d.text;
      else this.reasoning += d.text;
      const last = out[out.length - 1];
      if (last?.type === d.channel) last.text += d.text;
      else out.push({ type: d.channel, text: d.text });
    }
    return out;
  }
}
