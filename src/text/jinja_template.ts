// A repo's own chat template (chat_template.jinja, or tokenizer_config.json's "chat_template"),
// rendered with @huggingface/jinja as transformers.js does, so a fine-tune with another prompt format
// gets its own prompts. The built-in renderer (chat_template.ts) stays the fallback.
//
// Message text must stay text (special-token strings in it are not tags), so the template is rendered
// with each text replaced by a sentinel that no text can contain; the sentinels then mark where each
// message's text sits in the output, and the pieces between them are the template's own.
import { Template } from '@huggingface/jinja';
import { KimiVLError } from '../errors.ts';
import type { ChatMessage, PromptOptions, PromptSegment, RenderOptions } from './chat_template.ts';

/** Values a template may read besides the messages (transformers passes the special-token map). */
export interface TemplateContext {
  bos_token?: string;
  eos_token?: string;
  pad_token?: string;
  unk_token?: string;
}

/** tokenizer_config.json's template and special-token strings (a token may be a string or { content }). */
export function templateFromTokenizerConfig(configJson: string): {
  template: string | null;
  context: TemplateContext;
} {
  let cfg: Record<string, unknown>;
  try {
    cfg = JSON.parse(configJson) as Record<string, unknown>;
  } catch {
    return { template: null, context: {} };
  }
  const token = (v: unknown): string | undefined => {
    if (typeof v === 'string') return v;
    const c = (v as { content?: unknown } | null)?.content;
    return typeof c === 'string' ? c : undefined;
  };
  const context: TemplateContext = {};
  for (const k of ['bos_token', 'eos_token', 'pad_token', 'unk_token'] as const) {
    const t = token(cfg[k]);
    if (t !== undefined) context[k] = t;
  }
  // transformers also allows a list of named templates; "default" is the chat one.
  const t = cfg.chat_template;
  let template: string | null = null;
  if (typeof t === 'string') template = t;
  else if (Array.isArray(t)) {
    const named = t.find((x) => (x as { name?: unknown })?.name === 'default') as
      | { template?: unknown }
      | undefined;
    if (typeof named?.template === 'string') template = named.template;
  }
  return { template, context };
}

export class JinjaChatTemplate {
  private readonly template: Template;

  constructor(
    readonly source: string,
    private readonly context: TemplateContext = {},
  ) {
    try {
      this.template = new Template(source);
    } catch (e) {
      throw new KimiVLError(
        'TokenizerError',
        `the model's chat template does not parse: ${(e as Error).message}`,
        {
          cause: e,
        },
      );
    }
  }

  /**
   * The prompt as template and content pieces (see renderChatSegments). With
   * allowSpecialTokensInText the real text is rendered in place and the whole prompt is template.
   */
  renderSegments(messages: readonly ChatMessage[], options: PromptOptions): PromptSegment[] {
    if (options.allowSpecialTokensInText)
      return [{ kind: 'template', text: this.render(messages, options, (t) => t) }];
    const nonce = Math.random().toString(36).slice(2, 10);
    const texts: string[] = [];
    const rendered = this.render(messages, options, (t) => `\uE000${nonce}:${texts.push(t) - 1}\uE001`);
    return splitAtSentinels(rendered, nonce, texts);
  }

  private render(
    messages: readonly ChatMessage[],
    options: RenderOptions,
    textOf: (text: string) => string,
  ): string {
    const view = messages.map((m) => ({
      role: m.role,
      content:
        typeof m.content === 'string'
          ? textOf(m.content)
          : m.content.map((p) =>
              p.type === 'text' ? { type: 'text', text: textOf(p.text) } : { type: 'image' },
            ),
    }));
    try {
      return this.template.render({
        ...this.context,
        messages: view,
        add_generation_prompt: options.addGenerationPrompt,
      });
    } catch (e) {
      throw new KimiVLError(
        'TokenizerError',
        `the model's chat template failed to render: ${(e as Error).message}`,
        { cause: e },
      );
    }
  }
}

function splitAtSentinels(rendered: string, nonce: string, texts: readonly string[]): PromptSegment[] {
  const out: PromptSegment[] = [];
  const re = new RegExp(`\\uE000${nonce}:(\\d+)\\uE001`, 'g');
  const seen: number[] = [];
  let at = 0;
  for (let m = re.exec(rendered); m !== null; m = re.exec(rendered)) {
    if (m.index > at) out.push({ kind: 'template', text: rendered.slice(at, m.index) });
    const k = Number(m[1]);
    seen.push(k);
    if (texts[k]) out.push({ kind: 'content', text: texts[k]! });
    at = m.index + m[0].length;
  }
  if (at < rendered.length) out.push({ kind: 'template', text: rendered.slice(at) });
  // A template that transforms message text (trim, slicing, upper...) would have mangled a sentinel:
  // then where the text sits is unknown, and guessing could let text through as tags.
  if (seen.length !== texts.length || seen.some((k, i) => k !== i))
    throw new KimiVLError(
      'TokenizerError',
      "the model's chat template rewrites or reorders message text, so it cannot keep special-token " +
        'strings in that text as plain text; pass allowSpecialTokensInText: true to render it as is',
    );
  return out;
}
