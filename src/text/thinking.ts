// Splits a Thinking model's streamed text into its reasoning and its answer. The model writes
// `◁think▷<reasoning>◁/think▷<answer>`; the markers are plain text (several BPE tokens each, not
// special ids; spec 6.3, 11), so they can arrive split across deltas at any character. A tail that
// could be the start of the marker being looked for is held back until the next delta decides it.
//
// Like the model card's helper, the first start marker opens the reasoning and the first end marker
// after it closes it; everything after that is answer, markers included. Text before a start marker
// (none in practice) is answer.

export const THINK_START = '◁think▷';
export const THINK_END = '◁/think▷';

export type Channel = 'reasoning' | 'answer';

export interface ChannelDelta {
  channel: Channel;
  text: string;
}

export interface ThinkingSplitterOptions {
  /** false for Instruct models: everything is answer and markers are not looked for. */
  thinking: boolean;
  /** The prompt already ended with the start marker, so the stream begins inside the reasoning. */
  startInReasoning?: boolean;
}

type State = 'before' | 'reasoning' | 'after';

export class ThinkingSplitter {
  private state: State;
  private held = '';

  constructor(options: ThinkingSplitterOptions) {
    this.state = !options.thinking ? 'after' : options.startInReasoning ? 'reasoning' : 'before';
  }

  /** Feeds a text delta; returns the channel deltas it settles (adjacent ones of a channel merged). */
  push(delta: string): ChannelDelta[] {
    const out: ChannelDelta[] = [];
    if (this.state === 'after') {
      emit(out, 'answer', delta);
      return out;
    }
    let text = this.held + delta;
    this.held = '';
    while (this.state !== 'after') {
      const inReasoning: boolean = this.state === 'reasoning';
      const marker = inReasoning ? THINK_END : THINK_START;
      const channel: Channel = inReasoning ? 'reasoning' : 'answer';
      const at = text.indexOf(marker);
      if (at < 0) {
        const keep = partialMarkerLength(text, marker);
        emit(out, channel, text.slice(0, text.length - keep));
        this.held = text.slice(text.length - keep);
        return out;
      }
      emit(out, channel, text.slice(0, at));
      text = text.slice(at + marker.length);
      this.state = inReasoning ? 'after' : 'reasoning';
    }
    emit(out, 'answer', text);
    return out;
  }

  /** Ends the stream: a held partial marker was just text after all. */
  flush(): ChannelDelta[] {
    const out: ChannelDelta[] = [];
    emit(out, this.state === 'reasoning' ? 'reasoning' : 'answer', this.held);
    this.held = '';
    return out;
  }

  /** Which channel the next text will go to, as far as is known now. */
  get channel(): Channel {
    return this.state === 'reasoning' ? 'reasoning' : 'answer';
  }
}

/** Length of the longest suffix of `text` that is a proper prefix of `marker`. */
function partialMarkerLength(text: string, marker: string): number {
  for (let n = Math.min(marker.length - 1, text.length); n > 0; n--) {
    if (text.endsWith(marker.slice(0, n))) return n;
  }
  return 0;
}

function emit(out: ChannelDelta[], channel: Channel, text: string): void {
  if (text === '') return;
  const last = out[out.length - 1];
  if (last?.channel === channel) last.text += text;
  else out.push({ channel, text });
}

/** Splits a whole finished text (non-streaming convenience). */
export function splitThinking(text: string, thinking = true): { reasoning: string; answer: string } {
  const s = new ThinkingSplitter({ thinking });
  const parts = [...s.push(text), ...s.flush()];
  const join = (c: Channel) =>
    parts
      .filter((p) => p.channel === c)
      .map((p) => p.text)
      .join('');
  return { reasoning: join('reasoning'), answer: join('answer') };
}
