// A model file is never an HTML page. A web app that serves the model folder from its public/ (vite
// preview, most static hosts with an SPA fallback) answers 200 with its index.html for any file it
// does not have, so an HTML answer means the file is absent: an optional file (kimi-vl-manifest.json,
// chat_template.jinja, …) is skipped, and a required one fails with a DownloadError that names the
// URL and what was expected instead of "… is not valid JSON" from deep inside the parser.
import { KimiVLError } from '../errors.ts';

/** An HTML (or XHTML) page, by its Content-Type. */
export function isHtmlAnswer(res: Response): boolean {
  return /^\s*(text\/html|application\/xhtml\+xml)\b/i.test(res.headers.get('content-type') ?? '');
}

/** What a model file's name says it should contain, for the error message. */
export function expectedContent(url: string): string {
  const name = url.split(/[?#]/)[0]!.split('/').pop() ?? url;
  if (name.endsWith('.json')) return `${name} (JSON)`;
  if (name.endsWith('.safetensors')) return `${name} (safetensors weights)`;
  if (name === 'tiktoken.model') return 'tiktoken.model (the tokenizer vocabulary)';
  if (name.endsWith('.jinja')) return `${name} (a Jinja chat template)`;
  return name;
}

/**
 * The error for an HTML answer: a DownloadError that isNotFound() recognises (cause status 404), so
 * optional-file probes read it as "absent".
 */
export function htmlAnswerError(url: string): KimiVLError {
  return new KimiVLError(
    'DownloadError',
    `${url} answered with an HTML page (a web app's fallback page?) instead of ${expectedContent(url)}: the file is not on the server. Check the model folder URL.`,
    { cause: { status: 404, html: true } },
  );
}

/** Why a required file counts as missing: an HTML answer (an SPA fallback) or a plain 404. */
export function missingReason(e: unknown): string {
  const cause = (e as { cause?: { html?: boolean } } | null)?.cause;
  return cause?.html ? "the server answered with an HTML page (a web app's fallback page?)" : 'HTTP 404';
}
