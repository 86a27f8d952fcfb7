// One conversation's bubbles: the user's text with its media, the assistant's Markdown answer with a
// reasoning panel, timings, copy and regenerate, and an error beside the turn that failed.

import { mediaView } from './attachments.ts';
import { $, el, followBottom, iconButton } from './dom.ts';
import { explain } from './format.ts';
import { MarkdownStream } from './markdown.ts';
import type { StoredMedia, StoredMessage } from './store.ts';

const chatLog = $('#chat');

export function clearChat(): void {
  for (const m of [...chatLog.querySelectorAll('.msg')]) m.remove();
}

export function userBubble(text: string, media: StoredMedia[] = []): HTMLElement {
  const bubble = el('article', 'msg user');
  bubble.append(el('div', 'role', 'You'));
  if (media.length) {
    const strip = el('div', 'media-strip');
    for (const m of media) strip.append(mediaView(m));
    bubble.append(strip);
  }
  bubble.append(el('div', 'text', text));
  chatLog.append(bubble);
  followBottom(true);
  return bubble;
}

export interface TurnActions {
  copy(text: string): void;
  regenerate(): void;
}

/** The assistant's bubble while it streams, and after. */
export class AssistantTurn {
  readonly el = el('article', 'msg assistant');
  readonly answer: MarkdownStream;
  private reasoningBox: HTMLElement | null = null;
  private reasoningText = '';
  private tokens = 0;
  /** Set once the turn is finished (done, stopped or failed): later events are ignored. */
  closed = false;

  constructor(private readonly actions: TurnActions) {
    this.el.append(el('div', 'role', 'Kimi-VL'));
    const text = el('div', 'text markdown');
    this.el.append(text);
    this.answer = new MarkdownStream(text);
    this.answer.onRender = () => followBottom();
    this.el.dataset.tokens = '0';
    chatLog.append(this.el);
    followBottom(true);
  }

  streaming(on: boolean): void {
    this.el.classList.toggle('streaming', on);
  }

  token(): void {
    if (this.closed) return;
    this.el.dataset.tokens = String(++this.tokens);
  }

  addAnswer(text: string): void {
    if (!this.closed) this.answer.append(text);
  }

  addReasoning(text: string): void {
    if (this.closed) return;
    if (!this.reasoningBox) {
      const details = el('details');
      details.open = true;
      details.append(el('summary', '', 'Reasoning'));
      this.reasoningBox = el('div', 'reasoning');
      details.append(this.reasoningBox);
      this.el.querySelector('.text')!.before(details);
    }
    this.reasoningText += text;
    this.reasoningBox.textContent = this.reasoningText;
    followBottom();
  }

  /** Ends the turn: timings (or "stopped"), the finish reason, copy and regenerate. */
  finish(finish: string, meta: string): void {
    this.closed = true;
    this.streaming(false);
    this.answer.flush();
    const details = this.el.querySelector('details');
    if (details && finish !== 'error') details.open = false; // reasoning folds away once the answer is there
    this.el.dataset.finish = finish;
    if (meta) this.el.append(el('div', 'meta', meta));
    const bar = el('div', 'turn-actions');
    bar.append(
      iconButton('copy', 'Copy the answer', () => this.actions.copy(this.answer.text)),
      iconButton('regenerate', 'Regenerate', () => this.actions.regenerate()),
    );
    this.el.append(bar);
    followBottom();
  }

  /** The error of this turn, inside its bubble. */
  fail(e: unknown): void {
    const box = el('div', 'error turn-error', explain(e));
    box.setAttribute('role', 'alert');
    box.dataset.name = (e as Error)?.name ?? 'Error';
    this.el.append(box);
    this.finish('error', '');
  }

  stored(): StoredMessage {
    const err = this.el.querySelector<HTMLElement>('.turn-error');
    return {
      role: 'assistant',
      text: this.answer.text,
      reasoning: this.reasoningText || undefined,
      meta: this.el.querySelector('.meta')?.textContent ?? undefined,
      finish: this.el.dataset.finish,
      error: err ? { name: err.dataset.name ?? 'Error', message: err.textContent ?? '' } : undefined,
    };
  }

  /** Redraws a saved answer. */
  static restore(m: StoredMessage, actions: TurnActions): AssistantTurn {
    const t = new AssistantTurn(actions);
    if (m.reasoning) t.addReasoning(m.reasoning);
    t.answer.set(m.text);
    t.tokens = 0;
    if (m.error) {
      const box = el('div', 'error turn-error', m.error.message);
      box.dataset.name = m.error.name;
      t.el.append(box);
    }
    t.finish(m.finish ?? 'stop', m.meta ?? '');
    return t;
  }
}
