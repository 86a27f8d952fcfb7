// Answers as Markdown (GitHub flavour: code blocks, lists, tables), sanitised with DOMPurify: a model's
// output is untrusted text. Remote images are dropped (an offline app must not fetch what a model
// names), links open in a new tab without access to this page. While streaming, the answer is
// re-rendered at most once per animation frame from the whole text so far (Markdown is not
// incremental: a later line can turn earlier ones into a table).
import DOMPurify from 'dompurify';
import { Marked } from 'marked';

const marked = new Marked({ gfm: true, breaks: true, async: false });

DOMPurify.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName === 'A') {
    node.setAttribute('target', '_blank');
    node.setAttribute('rel', 'noopener noreferrer');
  }
});

export function markdownToHtml(source: string): string {
  const html = marked.parse(source) as string;
  return DOMPurify.sanitize(html, {
    FORBID_TAGS: ['img', 'style', 'form', 'input', 'button', 'iframe', 'video', 'audio', 'source'],
    FORBID_ATTR: ['style'],
  });
}

/** Renders a growing Markdown text into `target`, coalescing updates to one per frame. */
export class MarkdownStream {
  private source = '';
  private pending = 0;

  constructor(private readonly target: HTMLElement) {}

  get text(): string {
    return this.source;
  }

  set(text: string): void {
    this.source = text;
    this.schedule();
  }

  append(text: string): void {
    this.source += text;
    this.schedule();
  }

  /** Renders now (the end of a stream, or a restored message). */
  flush(): void {
    if (this.pending) cancelAnimationFrame(this.pending);
    this.pending = 0;
    this.target.innerHTML = markdownToHtml(this.source);
  }

  private schedule(): void {
    if (this.pending) return;
    this.pending = requestAnimationFrame(() => {
      this.pending = 0;
      this.target.innerHTML = markdownToHtml(this.source);
      this.onRender?.();
    });
  }

  /** Called after each scheduled render (the page follows the newest text). */
  onRender?: () => void;
}
