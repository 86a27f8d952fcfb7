// Human-readable figures for the demo: sizes, download progress with ETA, per-message timings.
import type { DoneEvent, LoadProgress } from '../src/index.ts';

export function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(bytes < 1e7 ? 2 : 1)} MB`;
}

function duration(s: number): string {
  if (!Number.isFinite(s)) return '…';
  if (s < 60) return `${Math.ceil(s)} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${Math.round(s % 60)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

const PHASE: Record<LoadProgress['phase'], string> = {
  metadata: 'Checking files',
  verify: 'Verifying cached files',
  download: 'Downloading',
  validate: 'Validating',
  convert: 'Converting weights',
  done: 'Uploading to the GPU',
};

export function progressText(p: LoadProgress): string {
  const parts = [PHASE[p.phase] ?? p.phase];
  if (p.bytesTotal > 0) parts.push(`${mb(p.bytesDone)} / ${mb(p.bytesTotal)}`);
  if (p.bytesPerSecond > 0) {
    parts.push(`${mb(p.bytesPerSecond)}/s`);
    parts.push(`ETA ${duration((p.bytesTotal - p.bytesDone) / p.bytesPerSecond)}`);
  }
  return parts.join(' · ');
}

export function timingsText(d: DoneEvent): string {
  const t = d.timings;
  const parts = [
    `${d.usage.completionTokens} tokens`,
    `first token ${Math.round(t.timeToFirstTokenMs)} ms`,
    `prefill ${t.prefillTokensPerSecond.toFixed(0)} tok/s (${d.usage.promptTokens - d.usage.cachedPromptTokens} new, ${d.usage.cachedPromptTokens} cached)`,
    `decode ${t.decodeTokensPerSecond.toFixed(1)} tok/s`,
  ];
  if (t.imageEncodeMs > 0) parts.push(`images ${Math.round(t.imageEncodeMs)} ms`);
  if (d.finishReason !== 'stop') parts.push(d.finishReason === 'abort' ? 'stopped' : 'length limit');
  return parts.join(' · ');
}

/** What to tell a person for each typed error. */
export function explain(e: unknown): string {
  const err = e as { name?: string; message?: string };
  const msg = err?.message ?? String(e);
  switch (err?.name) {
    case 'WebGPUUnavailableError':
      return `WebGPU is not available here. Use a recent Chrome or Edge (or Safari 26 / Firefox 141+) on a machine with a supported GPU.\n${msg}`;
    case 'DeviceLostError':
      return `The GPU was lost (the browser reset it: a driver crash, sleep, or too much memory asked of it). Load the model again.\n${msg}`;
    case 'GpuLimitError':
      return `This GPU cannot hold this model. Try q4 weights, a smaller model, or close other tabs.\n${msg}`;
    case 'QuotaError':
      return `Not enough storage for this model's download. Free some space or delete a cached model.\n${msg}`;
    case 'AbortError':
      return `Cancelled.`;
    case 'ImageError':
      return `That image could not be used: ${msg}`;
    case 'DownloadError':
      return `Download failed: ${msg}`;
    case 'ContextOverflowError':
      return `The conversation is too long: ${msg}`;
    default:
      return `${err?.name ?? 'Error'}: ${msg}`;
  }
}
