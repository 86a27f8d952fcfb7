// How `kimi-vl check` (and `plan`) word a preflight verdict: one line per figure, the same words as the
// API's CheckReport fields, so a user can match what the CLI prints with what KimiVL.check returns.
import type { CheckReport } from '../api/preflight.ts';
import { formatBytes } from '../weights/summary.ts';

/** 'none' is the one word for the weights as stored (plan, convert, the API and the CLI). */
export function quantWord(q: string, stored?: string): string {
  return q === 'none' ? `none (as stored${stored ? `: ${stored}` : ''})` : q;
}

const CACHED: Record<CheckReport['cached'], string> = {
  converted: 'cached (converted form; a load needs no network)',
  original: 'cached (original; a load converts it, no network)',
  partial: 'partly cached (a download resumes)',
  none: 'not cached',
};

export function formatCheck(r: CheckReport): string {
  const a = r.adapter;
  return [
    `model            ${r.id} (${r.format === 'hf' ? 'Hugging Face checkpoint' : 'kimi-vl-web converted'})`,
    `quantization     ${quantWord(r.quantization)} · context ${r.contextBudget}`,
    `verdict          ${r.fits ? 'fits' : 'does NOT fit'}`,
    ...r.reasons.map((x) => `  - ${x}`),
    `cached           ${CACHED[r.cached]}`,
    `download         ${formatBytes(r.downloadBytes)} (downloadBytes ${r.downloadBytes})`,
    `storage          ${formatBytes(r.storageBytes)} once loaded, ${formatBytes(r.peakStorageBytes)} at the peak of a first load`,
    `GPU memory       ${formatBytes(r.gpuBytes)} (weights + KV cache + activations)`,
    `largest binding  ${r.largestBinding.name} ${formatBytes(r.largestBinding.bytes)}`,
    a
      ? `adapter          ${a.description}${a.isFallbackAdapter ? ' (software fallback)' : ''} · maxStorageBufferBindingSize ${formatBytes(a.limits.maxStorageBufferBindingSize)} · maxBufferSize ${formatBytes(a.limits.maxBufferSize)}`
      : 'adapter          none (no WebGPU)',
  ].join('\n');
}
