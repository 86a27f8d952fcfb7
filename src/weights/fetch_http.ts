// The HTTP layer under every model-file transfer: transport options, typed errors, and one attempt's
// fetch with a stall watchdog and the caller's AbortSignal. Transient failures (dropped connection,
// stall, 5xx, 429) are RetryableErrors; anything else is a DownloadError the caller reports.
import { isKimiVLError, KimiVLError } from '../errors.ts';
import { htmlAnswerError, isHtmlAnswer } from './html_answer.ts';

export interface TransportOptions {
  signal?: AbortSignal;
  /** A download that receives no byte for this long fails with DownloadError (then is retried). */
  stallTimeoutMs: number;
  /** Attempts per file for transient failures (dropped connection, stall, 5xx); resumes each time. */
  maxAttempts: number;
  fetchImpl: typeof fetch;
}

/** DownloadError for a missing file; callers that probe optional files check for it with isNotFound. */
export function notFoundError(url: string, status: number): KimiVLError {
  return new KimiVLError('DownloadError', `HTTP ${status}: ${url} does not exist on the server.`, {
    cause: { status },
  });
}

export function isNotFound(e: unknown): boolean {
  const status = (e as { cause?: { status?: number } })?.cause?.status;
  return isKimiVLError(e, 'DownloadError') && (status === 404 || status === 410);
}

export function abortError(signal?: AbortSignal): KimiVLError {
  return new KimiVLError(
    'AbortError',
    'Model loading was cancelled; loading again resumes where it stopped.',
    {
      cause: signal?.reason,
    },
  );
}

export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw abortError(signal);
}

/** A transient failure worth another attempt (the connection, not the content, was the problem). */
export class RetryableError extends KimiVLError {}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }
    function onAbort() {
      clearTimeout(t);
      reject(abortError(signal));
    }
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** One attempt's controller: aborted by the caller's signal or by the stall watchdog. */
export class AttemptControl {
  readonly controller = new AbortController();
  private timer: ReturnType<typeof setTimeout> | undefined;
  stalled = false;
  private readonly onOuterAbort = () => this.controller.abort();

  constructor(
    private readonly outer: AbortSignal | undefined,
    private readonly stallMs: number,
  ) {
    outer?.addEventListener('abort', this.onOuterAbort, { once: true });
    this.kick();
  }

  /** Restarts the stall watchdog (called on every received chunk). */
  kick(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.stalled = true;
      this.controller.abort();
    }, this.stallMs);
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.outer?.removeEventListener('abort', this.onOuterAbort);
  }

  /** Maps whatever an aborted or failed fetch/read threw to our typed errors. */
  translate(e: unknown, url: string): KimiVLError {
    if (this.outer?.aborted) return abortError(this.outer);
    if (this.stalled)
      return new RetryableError(
        'DownloadError',
        `${url}: no data received for ${this.stallMs / 1000} s (stalled).`,
      );
    if (e instanceof KimiVLError) return e;
    return new RetryableError('DownloadError', `${url}: network error (${(e as Error)?.message ?? e}).`, {
      cause: e,
    });
  }
}

export async function fetchChecked(
  url: string,
  init: RequestInit,
  ctl: AttemptControl,
  fetchImpl: typeof fetch,
) {
  let res: Response;
  try {
    res = await fetchImpl(url, { ...init, signal: ctl.controller.signal, cache: 'no-store' });
  } catch (e) {
    throw ctl.translate(e, url);
  }
  if (res.status === 404 || res.status === 410) throw notFoundError(url, res.status);
  if (res.ok && isHtmlAnswer(res)) throw htmlAnswerError(url); // an SPA's fallback page, not the file
  if (res.status >= 500 || res.status === 429 || res.status === 408)
    throw new RetryableError('DownloadError', `${url}: server answered HTTP ${res.status}.`);
  if (res.status >= 400)
    throw new KimiVLError(
      'DownloadError',
      `${url}: server answered HTTP ${res.status}${res.status === 401 || res.status === 403 ? ' (gated or private repository?)' : ''}.`,
    );
  return res;
}
