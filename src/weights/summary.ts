// What `kimi-vl inspect` reports about an opened (and therefore fully validated) checkpoint:
// tensor and parameter counts per model part, bytes per dtype, and the checks that passed.

import { elementCount, weightTable } from '../config/weight_names.ts';
import type { OpenedCheckpoint } from './checkpoint.ts';

export interface CheckpointSummary {
  location: string;
  format: 'hf' | 'kimi-vl-web';
  quant: string;
  shards: number;
  tensors: number;
  ignoredTensors: number;
  /** Parameters per part (vision / projector / language) and in all. */
  params: { vision: number; projector: number; language: number; total: number };
  /** Stored bytes per safetensors dtype. */
  bytesByDType: Record<string, { tensors: number; bytes: number }>;
  totalBytes: number;
  checks: string[];
}

export function summarizeCheckpoint(ck: OpenedCheckpoint, location: string): CheckpointSummary {
  const params = { vision: 0, projector: 0, language: 0, total: 0 };
  const used = new Set<string>();
  for (const spec of weightTable(ck.config)) {
    const n = elementCount(spec.shape);
    const key = spec.part === 'vision' ? 'vision' : spec.part === 'projector' ? 'projector' : 'language';
    params[key] += n;
    params.total += n;
    for (const name of ck.source.naming === 'hf' ? spec.hf : [spec.name]) used.add(name);
  }
  const bytesByDType: CheckpointSummary['bytesByDType'] = {};
  let totalBytes = 0;
  const names = ck.source.list();
  for (const name of names) {
    const i = ck.source.info(name);
    const slot = bytesByDType[i.dtype] ?? { tensors: 0, bytes: 0 };
    bytesByDType[i.dtype] = slot;
    slot.tensors++;
    slot.bytes += i.bytes;
    totalBytes += i.bytes;
  }
  return {
    location,
    format: ck.format,
    quant: ck.manifest ? ck.manifest.quant : 'as stored',
    shards: ck.shards.length,
    tensors: names.length,
    ignoredTensors: names.filter((n) => !used.has(n)).length,
    params,
    bytesByDType,
    totalBytes,
    checks: ck.checks,
  };
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}

export function formatCount(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return String(n);
}

export function formatSummary(s: CheckpointSummary): string {
  const lines = [
    `checkpoint  ${s.location}`,
    `format      ${s.format === 'hf' ? 'Hugging Face safetensors' : 'kimi-vl-web converted'} (quant: ${s.quant})`,
    `shards      ${s.shards}`,
    `tensors     ${s.tensors} (${s.ignoredTensors} ignored: rotary inv_freq buffers)`,
    `parameters  ${formatCount(s.params.total)} = vision ${formatCount(s.params.vision)} + projector ${formatCount(s.params.projector)} + language ${formatCount(s.params.language)} (${s.params.total})`,
    `bytes       ${formatBytes(s.totalBytes)} (${s.totalBytes})`,
    ...Object.entries(s.bytesByDType).map(
      ([d, v]) =>
        `  ${d.padEnd(5)} ${String(v.tensors).padStart(6)} tensors  ${formatBytes(v.bytes).padStart(10)}`,
    ),
    'checks passed:',
    ...s.checks.map((c) => `  ✓ ${c}`),
  ];
  return lines.join('\n');
}
