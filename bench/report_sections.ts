// Markdown tables of the bandwidth, MLA decode and per-token (27-layer, counted) sections, and the
// verdict of a side-by-side row against the goal. report.ts assembles them with the rest.
import type { BandwidthRow, BenchResult, KernelRow, PeerRow } from './types.ts';

/** The copy GB/s a run measured, or undefined. */
export const copyGBps = (rows: readonly BandwidthRow[] | undefined) => rows?.find((r) => r.gbps)?.gbps;

/** A GEMV row's GB/s as a fraction of the copy kernel's (kernel and peer matvec rows). */
export function fractionOfCopy(row: KernelRow | PeerRow, copy: number | undefined): number | undefined {
  if (!copy || !row.op.startsWith('matvec')) return undefined;
  const gbps = 'peerOp' in row ? row.oursGBps : row.gbps;
  return gbps === undefined ? undefined : gbps / copy;
}

export const fmt = (x: number | undefined, digits = 2) =>
  x === undefined || !Number.isFinite(x) ? '–' : x >= 100 ? x.toFixed(0) : x.toFixed(digits);
export const mb = (b: number) =>
  b >= 1e9
    ? `${(b / 1e9).toFixed(3)} GB`
    : b >= 1e6
      ? `${(b / 1e6).toFixed(2)} MB`
      : `${(b / 1e3).toFixed(1)} kB`;

export function table(head: string[], rows: string[][]): string[] {
  return [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ];
}

/** "goal ≤ 1.0: met" / "**goal ≤ 0.5: missed (×0.83)**" for a row with a target. */
export function goalVerdict(p: PeerRow): string {
  if (p.target === undefined || p.ratio === undefined) return '';
  return p.ratio <= p.target
    ? `goal ≤ ${p.target.toFixed(1)}: met`
    : `**goal ≤ ${p.target.toFixed(1)}: missed (${p.ratio.toFixed(2)})**`;
}

/** The fraction of the copy kernel's GB/s a GEMV row reached, as text. */
export function ofCopyText(r: BenchResult, row: KernelRow | PeerRow): string {
  const f = fractionOfCopy(row, copyGBps(r.bandwidth));
  return f === undefined ? '–' : f.toFixed(2);
}

export function bandwidthSection(r: BenchResult, dev: string): string[] {
  if (!r.bandwidth?.length) return [];
  return [
    '## Device bandwidth',
    '',
    'A plain copy kernel (bench/copy_bandwidth.wgsl: one vec4<u32> per lane); GB/s = bytes read + written / median time. ' +
      'GEMV rows below give their GB/s as a fraction of it ("of copy"; the goal on a real GPU is ≥ 0.7).',
    '',
    ...table(
      ['op', 'bytes moved', 'median ms', 'GB/s', 'samples×batch', 'device'],
      r.bandwidth.map((b) =>
        b.timing
          ? [b.op, mb(b.bytes), fmt(b.timing.ms, 3), fmt(b.gbps), `${b.timing.reps}×${b.timing.batch}`, dev]
          : [b.op, mb(b.bytes), b.skipped ?? '–', '', '', dev],
      ),
    ),
    '',
  ];
}

export function mlaSection(r: BenchResult, dev: string): string[] {
  if (!r.mlaDecode?.length) return [];
  const first = r.mlaDecode[0]!;
  return [
    '## MLA decode: new kernel against the old one',
    '',
    `One token, 16 heads, R 512 + rope 64, kv_b bf16. Old: ${first.oldKernel}. New: ${first.newKernel}. ` +
      'Bytes read = the cache rows each kernel streams + q/o + kv_b; minimum = the f16 latent cache once + q/o + kv_b. ' +
      'Goals: bytes ≤ 1.1 × the minimum; at 8K the new kernel ≥ 8× faster than the old.',
    '',
    ...table(
      [
        'context',
        'old ms',
        'new ms',
        'old / new',
        'bytes read (new)',
        'bytes read (old)',
        'f16 minimum',
        'new / min',
        'device',
      ],
      r.mlaDecode.map((m) => [
        String(m.context),
        m.skipped ?? fmt(m.oldMs, 1),
        fmt(m.newMs, 1),
        fmt(m.speedup),
        mb(m.bytesRead),
        mb(m.oldBytesRead),
        mb(m.minBytes),
        fmt(m.bytesRead / m.minBytes, 3),
        dev,
      ]),
    ),
    '',
  ];
}

export function perTokenSection(r: BenchResult): string[] {
  if (!r.perToken?.length) return [];
  return [
    '## Per decoded token, real config (27 layers, counted)',
    '',
    `Recorded without executing by ${r.perToken[0]!.counter}, with the real vocabulary and every layer. ` +
      'Bytes read = what the kernels report + the cache rows an attention dispatch streams where it reports none ' +
      '(bench/kv_reads.ts); minimum = active parameters at this quantisation + the f16 latent cache once. ' +
      'Goals: dispatches ≤ 300, submits 1, readbacks ≤ 1, bytes ≤ 1.05 × the minimum.',
    '',
    ...table(
      [
        'weights',
        'context',
        'dispatches',
        'submits',
        'readbacks',
        'uniform bytes',
        'bytes read',
        'of which KV',
        'minimum',
        'ratio',
      ],
      r.perToken.map((t) => [
        t.quant,
        String(t.context),
        String(t.dispatches),
        String(t.submits),
        String(t.readbacks),
        mb(t.uniformBytes),
        mb(t.bytesRead),
        mb(t.kvBytesRead),
        mb(t.minBytes),
        fmt(t.ratio, 3),
      ]),
    ),
    '',
  ];
}
