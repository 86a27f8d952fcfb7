// Harness tasks for `kimi-vl check` and `kimi-vl download`: the public KimiVL.check / KimiVL.preload in
// the page, so the verdict and the cache are the browser's own (the CLI's profile holds the cache).

import type { CheckReport, PreloadResult } from '../../api/preflight.ts';
import { KimiVL, type LoadProgress } from '../../index.ts';
import { dropStaleLocalCopies } from './local_cache.ts';

export interface CheckTaskArg {
  model: string;
  quantization: 'none' | 'q8' | 'q4';
  contextBudget?: number;
  limits?: { maxStorageBufferBindingSize?: number; maxBufferSize?: number };
}

export async function runCheckTask(arg: CheckTaskArg): Promise<CheckReport> {
  await dropStaleLocalCopies(arg.model); // `cached` must not count an older version of a local folder
  return KimiVL.check(arg.model, {
    quantization: arg.quantization,
    contextBudget: arg.contextBudget,
    limits: arg.limits,
  });
}

export interface DownloadTaskResult extends PreloadResult {
  seconds: number;
  /** navigator.storage.estimate() after the download. */
  storageUsage: number | null;
}

type Sink = (e: { type: 'progress'; progress: LoadProgress }) => Promise<void>;

export async function runDownloadTask(arg: {
  model: string;
  quantization: 'none' | 'q8' | 'q4';
}): Promise<DownloadTaskResult> {
  const sink = (globalThis as unknown as { kimiRunEvent?: Sink }).kimiRunEvent;
  const t0 = performance.now();
  await dropStaleLocalCopies(arg.model);
  const r = await KimiVL.preload(arg.model, {
    quantization: arg.quantization,
    onProgress: sink ? (progress) => void sink({ type: 'progress', progress }) : undefined,
  });
  const est = await navigator.storage?.estimate?.().catch(() => null);
  return { ...r, seconds: (performance.now() - t0) / 1000, storageUsage: est?.usage ?? null };
}
