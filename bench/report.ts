// Renders a BenchResult as Markdown (latest.md) and a hand-written SVG bar chart (latest.svg).
// Every table carries its conditions: the device column, shapes, quantisation, repetitions.
import { followUpSection, imageTtftSection } from './report_images.ts';
import {
  bandwidthSection,
  fmt as f,
  goalVerdict,
  mb,
  mlaSection,
  ofCopyText,
  perTokenSection,
  table,
} from './report_sections.ts';
import { type BenchResult, type EndToEndRow, type KernelRow, PEER_AGREEMENT, type PeerRow } from './types.ts';

export function deviceTag(r: BenchResult): string {
  const a = r.conditions.adapter;
  const name = a.description || [a.vendor, a.architecture].filter(Boolean).join(' ') || 'unknown adapter';
  return a.fallback || /swiftshader/i.test(name) ? `${name} (CPU)` : name;
}

function kernelRows(r: BenchResult, dev: string): string[][] {
  return r.kernels.map((k: KernelRow) =>
    k.skipped
      ? [k.op, k.shape, k.quant, k.skipped, '', '', '', mb(k.bytes), '', dev]
      : [
          k.op,
          k.shape,
          k.quant,
          f(k.timing!.ms, 3),
          f(k.gbps),
          ofCopyText(r, k),
          f(k.gflops),
          mb(k.bytes),
          `${k.timing!.reps}×${k.timing!.batch}`,
          dev,
        ],
  );
}

/** Why we lose where ours/theirs > 1: what the row's kernel path does (see bench/variants.ts). */
export function whyWeLose(p: PeerRow): string {
  if (p.variant?.includes('CPU-adapter'))
    return 'ours: matmul_direct, the barrier-free kernel for CPU adapters (not what a GPU runs)';
  if (p.op === 'matvec')
    return 'ours: GEMV reading whole q4/q8 blocks per lane; the peer at its best accuracy_level (see ORT graph)';
  if (p.op.startsWith('matmul') && p.variant?.includes('GPU lanes'))
    return 'ours: the GPU tuning (many lanes, 4×4 blocks: a CPU adapter gathers every workgroup-memory read)';
  if (p.op.startsWith('matmul'))
    return 'ours: the tiled GEMM (workgroup-memory tiles, barriers: costly on a CPU adapter)';
  return 'ours: flash attention with K/V tiles in workgroup memory (barriers: costly on a CPU adapter)';
}

function peerRows(r: BenchResult, dev: string): string[][] {
  return r.peer.map((p) => {
    const verdict = p.skipped
      ? p.skipped
      : p.ratio! <= 1
        ? `ours faster (×${f(1 / p.ratio!)})`
        : `**ours slower (×${f(p.ratio!)})**: ${whyWeLose(p)}`;
    const others = (p.peerOptions ?? [])
      .filter((o) => o.label !== p.peerOp)
      .map((o) => {
        if (o.ms === undefined) return `${o.label}: failed (${o.failed})`;
        const off = o.agreement !== undefined && !(o.agreement < PEER_AGREEMENT);
        return `${o.label}: ${f(o.ms, 3)} ms${off ? ` (not counted: differs from ours by ${o.agreement!.toExponential(1)})` : ''}`;
      });
    return [
      p.op,
      p.shape,
      p.quant,
      p.variant ?? '–',
      f(p.oursMs, 3),
      f(p.peerMs, 3),
      f(p.ratio),
      goalVerdict(p) || '–',
      p.op === 'matvec' ? `${f(p.oursGBps)} (${ofCopyText(r, p)})` : '–',
      p.agreement === undefined ? '–' : p.agreement.toExponential(1),
      [p.peerOp, ...(others.length ? [`also ran: ${others.join('; ')}`] : [])].join('<br>'),
      [verdict, p.note].filter(Boolean).join('; '),
      dev,
    ];
  });
}

function e2eRows(r: BenchResult, dev: string): { speed: string[][]; bytes: string[][] } {
  const speed: string[][] = [];
  const bytes: string[][] = [];
  for (const e of r.endToEnd as EndToEndRow[]) {
    if (e.skipped) {
      speed.push([e.model, e.quant, e.skipped, '', '', '', '', '', '', dev]);
      continue;
    }
    const t = e.perToken;
    speed.push([
      e.model,
      e.quant,
      e.imageEncode.map((i) => `${i.pixels} (${i.patches} patches): ${f(i.ms, 1)} ms`).join('<br>'),
      String(e.promptTokens),
      f(e.prefillTokPerS),
      f(e.decodeTokPerS),
      `${f(e.engineDecode?.walked.tokPerS)} → ${f(e.engineDecode?.tokPerS)}`,
      `${f(e.perToken.gpuIdleMs, 1)} → ${f(e.engineDecode?.walked.gpuIdleMs, 1)} → ${f(e.engineDecode?.gpuIdleMs, 1)}`,
      f(e.ttftMs, 1),
      dev,
    ]);
    bytes.push([
      e.model,
      e.quant,
      String(t.context),
      mb(t.bytesRead),
      mb(t.minBytes),
      f(t.ratio, 3),
      mb(t.kvBytesRead),
      f(t.submits),
      f(t.readbacks),
      f(t.dispatches, 1),
      f(t.achievedGBps, 3),
      f(t.gpuBusyMs, 1),
      f(t.gpuIdleMs, 1),
      dev,
    ]);
  }
  return { speed, bytes };
}

export function renderMarkdown(r: BenchResult): string {
  const c = r.conditions;
  const dev = deviceTag(r);
  const mode = r.config.smoke ? 'smoke' : r.config.quick ? 'quick' : 'full';
  const e2e = e2eRows(r, dev);
  return [
    '# kimi-vl-web benchmark',
    '',
    ...table(
      ['condition', 'value'],
      [
        ['date', c.date],
        ['engine', c.engine],
        ['browser', c.browser],
        ['adapter', `${dev}${c.hardware ? ' (--hardware)' : ' (SwiftShader unless --hardware)'}`],
        ['features', c.features.join(', ') || '(none)'],
        [
          'limits',
          `maxBufferSize ${mb(c.maxBufferSize)}, maxStorageBufferBindingSize ${mb(c.maxStorageBufferBindingSize)}`,
        ],
        ...(c.host ? [['host', c.host]] : []),
        ['timing', c.timing],
        ['mode', `${mode}: ${r.config.warmup} warm-up, ${r.config.reps} samples per figure`],
        ['peer', c.peer],
        ['total run', `${f(r.seconds, 0)} s`],
      ],
    ),
    '',
    '## Kernels at real Kimi-VL shapes',
    '',
    'Shapes are in→out (K→N); bytes are what the op must read at least (weights + activations + caches), GB/s = bytes / median time.',
    '',
    ...table(
      [
        'op',
        'shape',
        'weights',
        'median ms',
        'GB/s',
        'of copy',
        'GFLOP/s',
        'bytes',
        'samples×batch',
        'device',
      ],
      kernelRows(r, dev),
    ),
    '',
    `## Side by side with ONNX Runtime Web (WebGPU), same adapter, same run`,
    '',
    'ours/ORT < 1: we are faster. Agreement: max |ours − ORT| / max |ORT| on the same inputs. Ours runs the ' +
      'kernel path real GPUs run, forced through rt.tuning (the variant column), at this adapter’s tuning of it: ' +
      'on a CPU adapter the tiled GEMM runs few lanes (16-row blocks per lane, one tile buffer staged by all ' +
      'lanes; src/kernels/core/matmul_tiling.ts), and rows marked GPU lanes repeat M = 32 with the GPU tuning. ' +
      'Rows marked CPU-adapter path are matmul_direct, what SwiftShader runs below the tiled GEMM’s row count. ' +
      "ORT runs every form listed and the fastest is the row's peer: " +
      'MatMulNBits at accuracy_level 0 (f32) and 4 (int8 activations, its DP4A kernel), attention as its ' +
      'MultiHeadAttention op and as a MatMul·Softmax·MatMul graph.',
    '',
    ...table(
      [
        'op',
        'shape',
        'weights',
        'ours (variant)',
        'ours ms',
        'ORT ms',
        'ours/ORT',
        'goal',
        'ours GB/s (of copy)',
        'agreement',
        'ORT graph (fastest; the others it ran)',
        'verdict',
        'device',
      ],
      peerRows(r, dev),
    ),
    '',
    ...bandwidthSection(r, dev),
    ...mlaSection(r, dev),
    ...perTokenSection(r),
    '## End to end',
    '',
    ...table(
      [
        'model',
        'weights',
        'image encode',
        'prompt tokens (text + image)',
        'prefill tok/s',
        'decode tok/s (plain loop)',
        'decode tok/s (engine loop: walked → replayed)',
        'GPU idle ms/token (plain → walked → replayed)',
        'TTFT ms',
        'device',
      ],
      e2e.speed,
    ),
    '',
    ...imageTtftSection(r, dev),
    ...followUpSection(r),
    'Plain loop: step → sample → read the id, one token at a time (the host path before #13). Engine loop: ' +
      'generate(), as a request runs it (the sampled id stays on the GPU and is read one step late).',
    '',
    '## Per decoded token',
    '',
    'bytes read = what the kernels report (rt.stats.bytesRead) + the latent-cache rows an attention dispatch streams where it reports none (bench/kv_reads.ts); ' +
      'minimum = active parameters at this quantisation + the f16 latent cache once, from config.json alone. ' +
      'GPU busy = Σ compute-pass durations from timestamp queries; GPU idle = wall time per token − busy.',
    '',
    ...table(
      [
        'model',
        'weights',
        'context',
        'bytes read',
        'theoretical min',
        'ratio',
        'of which KV',
        'submits',
        'readbacks',
        'dispatches',
        'achieved GB/s',
        'GPU busy ms',
        'GPU idle ms',
        'device',
      ],
      e2e.bytes,
    ),
    '',
    ...r.endToEnd.filter((e) => e.note).map((e) => `- ${e.model}: ${e.note}`),
    '- Time is wall clock around the queue draining, so on SwiftShader it is CPU time shared with everything ' +
      'else on the host (see the host row); compare figures from the same run only.',
    ...(r.pending?.length
      ? [
          '',
          '## Not run yet',
          '',
          `This file was written while the run was under way; still to run: ${r.pending.join(', ')}.`,
        ]
      : []),
    ...(r.failures.length
      ? ['', '## Failures', '', ...r.failures.map((x) => `- ${x.section}: ${x.message}`)]
      : []),
    '',
  ].join('\n');
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Two panels of horizontal bars: achieved GB/s per kernel, and ours/ORT time per peer shape. */
export function renderSvg(r: BenchResult): string {
  const W = 960;
  const labelW = 340;
  const barW = W - labelW - 90;
  const rowH = 18;
  const parts: string[] = [];
  let y = 30;
  const title = (t: string) => {
    parts.push(`<text x="10" y="${y}" font-size="14" font-weight="bold">${esc(t)}</text>`);
    y += 12;
  };
  const bars = (items: { label: string; value: number; text: string; color: string }[], marker?: number) => {
    const max = Math.max(marker ?? 0, ...items.map((i) => i.value), 1e-9);
    const top = y;
    for (const it of items) {
      const w = Math.max(1, (it.value / max) * barW);
      parts.push(
        `<text x="${labelW - 6}" y="${y + 13}" font-size="11" text-anchor="end">${esc(it.label)}</text>`,
        `<rect x="${labelW}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 5}" fill="${it.color}"/>`,
        `<text x="${labelW + w + 4}" y="${y + 13}" font-size="11">${esc(it.text)}</text>`,
      );
      y += rowH;
    }
    if (marker !== undefined) {
      const x = labelW + (marker / max) * barW;
      parts.push(
        `<line x1="${x.toFixed(1)}" y1="${top}" x2="${x.toFixed(1)}" y2="${y}" stroke="#333" stroke-dasharray="4 3"/>`,
      );
    }
    y += 24;
  };
  title(`Achieved GB/s per kernel: ${deviceTag(r)}, ${r.conditions.date.slice(0, 10)}`);
  bars(
    r.kernels
      .filter((k) => k.timing)
      .map((k) => ({
        label: `${k.op} ${k.shape} ${k.quant}`,
        value: k.gbps!,
        text: `${f(k.gbps)} GB/s (${f(k.timing!.ms, 3)} ms)`,
        color: '#4878a8',
      })),
  );
  title('Time ours / ONNX Runtime Web (dashed line = parity; shorter is faster)');
  bars(
    r.peer
      .filter((p) => p.ratio !== undefined)
      .map((p) => ({
        label: `${p.op} ${p.shape} ${p.quant}`,
        value: p.ratio!,
        text: `×${f(p.ratio)}`,
        color: p.ratio! <= 1 ? '#4a9a5a' : '#c8553d',
      })),
    1,
  );
  const H = y + 10;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
