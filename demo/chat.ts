// The conversation: sending a turn, streaming its answer, Stop (the turn ends on the click; the engine
// is cancelled behind it), regenerate, copy, and keeping everything in IndexedDB across reloads.
import type { ChatContentPart, ChatMessage, DoneEvent } from '../src/index.ts';
import { AssistantTurn, clearChat, userBubble } from './chat_view.ts';
import { $ } from './dom.ts';
import { showExamples } from './examples.ts';
import { timingsText } from './format.ts';
import type { Models } from './models.ts';
import {
  type Conversation,
  newConversation,
  type StoredMedia,
  type StoredMessage,
  saveConversation,
} from './store.ts';

const TINY_THINKING_BUDGET = 8;
const sendButton = $<HTMLButtonElement>('#send');
const stopButton = $<HTMLButtonElement>('#stop');

interface Running {
  abort: AbortController;
  turn: AssistantTurn;
  /** Where this answer sits in the conversation (a placeholder until it ends). */
  index: number;
}

export class Chat {
  conversation: Conversation = newConversation();
  private running: Running | null = null;
  /** Notified after every change that is saved (the conversation list redraws). */
  onSaved?: () => void;

  constructor(private readonly models: Models) {
    stopButton.addEventListener('click', () => this.stop());
  }

  get busy(): boolean {
    return this.running !== null;
  }

  updateButtons(): void {
    sendButton.hidden = this.busy;
    stopButton.hidden = !this.busy;
    sendButton.disabled = !this.models.current;
  }

  /** Engine messages from the saved ones: failed turns (and the question they answer) are left out. */
  private history(messages: StoredMessage[]): ChatMessage[] {
    const out: ChatMessage[] = [];
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      const next = messages[i + 1];
      if (m.role === 'user' && next?.role === 'assistant' && next.error) {
        i++;
        continue;
      }
      if (m.role === 'assistant') {
        if (!m.error) out.push({ role: 'assistant', content: m.text });
        continue;
      }
      out.push({ role: 'user', content: this.content(m) });
    }
    return out;
  }

  private content(m: StoredMessage): ChatMessage['content'] {
    if (!m.media?.length) return m.text;
    const video = this.models.current?.entry?.video;
    const parts: ChatContentPart[] = m.media.map((x) =>
      x.kind === 'video' ? { type: 'video', video: x.blob, ...video } : { type: 'image', image: x.blob },
    );
    return [...parts, { type: 'text', text: m.text }];
  }

  async send(text: string, media: StoredMedia[]): Promise<void> {
    if (!this.models.current || this.running || (!text && !media.length)) return;
    showExamples(false);
    userBubble(text, media);
    this.conversation.messages.push({ role: 'user', text, media });
    await this.answer();
  }

  /** Asks again for the last answer. */
  async regenerate(): Promise<void> {
    if (this.running || !this.models.current) return;
    const msgs = this.conversation.messages;
    if (msgs.at(-1)?.role === 'assistant') msgs.pop();
    [...document.querySelectorAll('.msg.assistant')].at(-1)?.remove();
    await this.answer();
  }

  private async answer(): Promise<void> {
    const loaded = this.models.current!;
    const history = this.history(this.conversation.messages);
    const turn = new AssistantTurn({
      copy: (t) => void navigator.clipboard?.writeText(t),
      regenerate: () => void this.regenerate(),
    });
    turn.streaming(true);
    const msgs = this.conversation.messages;
    const running: Running = { abort: new AbortController(), turn, index: msgs.push(turn.stored()) - 1 };
    this.running = running;
    this.updateButtons();
    const thinkingDemo = $<HTMLInputElement>('#thinking-demo').checked && !loaded.engine.info.thinking;
    let done: DoneEvent | null = null;
    try {
      const stream = loaded.engine.chat(history, {
        maxTokens: Number($<HTMLInputElement>('#max-tokens').value) || 64,
        temperature: Number($<HTMLInputElement>('#temperature').value),
        signal: running.abort.signal,
        tokenEvents: true,
        ...(thinkingDemo
          ? { thinking: true, startThinking: true, thinkingBudget: TINY_THINKING_BUDGET }
          : {}),
      });
      for await (const e of stream) {
        if (turn.closed) break; // stopped: the turn already ended on the click
        if (e.type === 'token') turn.token();
        else if (e.type === 'answer') turn.addAnswer(e.text);
        else if (e.type === 'reasoning') turn.addReasoning(e.text);
        else if (e.type === 'done') done = e;
      }
      if (!turn.closed) turn.finish(done?.finishReason ?? 'stop', done ? timingsText(done) : '');
    } catch (e) {
      if (!turn.closed) turn.fail(e);
      if ((e as Error)?.name === 'DeviceLostError') this.models.lost();
    } finally {
      if (this.running === running) this.running = null;
      this.updateButtons();
      if (msgs[running.index]?.role === 'assistant') msgs[running.index] = turn.stored();
      await saveConversation(this.conversation);
      this.onSaved?.();
    }
  }

  /** Stop answers at once: the turn ends now; the engine's cancel lands within one token behind it. */
  stop(): void {
    const r = this.running;
    if (!r) return;
    r.abort.abort();
    r.turn.finish('abort', 'stopped');
    this.conversation.messages[r.index] = r.turn.stored();
    this.running = null;
    this.updateButtons();
  }

  /** Starts an empty conversation (the old one stays saved). */
  reset(): void {
    this.stop();
    this.conversation = newConversation();
    clearChat();
    showExamples(true);
    void this.models.current?.engine.resetConversation();
    this.onSaved?.();
  }

  /** Shows a saved conversation; the next turn continues it. */
  open(c: Conversation): void {
    this.stop();
    this.conversation = c;
    clearChat();
    showExamples(c.messages.length === 0);
    const actions = {
      copy: (t: string) => void navigator.clipboard?.writeText(t),
      regenerate: () => void this.regenerate(),
    };
    for (const m of c.messages) {
      if (m.role === 'user') userBubble(m.text, m.media ?? []);
      else AssistantTurn.restore(m, actions);
    }
    void this.models.current?.engine.resetConversation();
  }
}
