// `npx tsx bench/readme_figures.ts [bench/results/latest.json]`: the README's Performance figures from a
// result file, as Markdown (so the README quotes the committed run, not numbers typed by hand): the goals
// of #13/#14 with met/missed per row, then the tables a reader needs first.
import { readFileSync } from 'node:fs';
import { followUpSection, imageTtftSection } from './report_images.ts';
import { fmt, goalVerdict, mb, ofCopyText, table } from './report_sections.ts';
import type { BenchResult } from './types.ts';

export function readmeFigures(r: BenchResult): string {
  const a = r.conditions.adapter;
  const out: string[] = [
    `Latest full run: engine ${r.conditions.engine}, ${r.conditions.browser}, ${a.description || a.vendor}` +
      `${a.fallback || /swiftshader/i.test(a.description) ? ' (a CPU implementation of WebGPU)' : ''}, ` +
      `${r.conditions.host ? `${r.conditions.host}, ` : ''}${r.seconds.toFixed(0)} s.`,
    '',
  ];
  const copy = r.bandwidth?.find((b) => b.gbps);
  if (copy) out.push(`Copy-kernel bandwidth: ${fmt(copy.gbps)} GB/s.`, '');
  out.push(
    ...table(
      [
        'op',
        'shape',
        'weights',
        'ours (variant)',
        'ours ms',
        'ORT ms (fastest form)',
        'ours/ORT',
        'goal',
        'GB/s of copy',
      ],
      r.peer.map((p) =>
        p.skipped
          ? [p.op, p.shape, p.quant, p.variant ?? '–', p.skipped, '', '', '', '']
          : [
              p.op,
              p.shape,
              p.quant,
              p.variant ?? '–',
              fmt(p.oursMs, 1),
              `${fmt(p.peerMs, 1)} (${p.peerOp})`,
              fmt(p.ratio),
              goalVerdict(p) || '–',
              ofCopyText(r, p),
            ],
      ),
    ),
    '',
  );
  if (r.mlaDecode?.length)
    out.push(
      ...table(
        ['MLA decode context', 'old ms', 'new ms', 'old/new', 'bytes (new) / f16 min'],
        r.mlaDecode.map((m) => [
          String(m.context),
          m.skipped ?? fmt(m.oldMs, 1),
          fmt(m.newMs, 1),
          fmt(m.speedup),
          `${mb(m.bytesRead)} / ${mb(m.minBytes)} = ${fmt(m.bytesRead / m.minBytes, 3)}`,
        ]),
      ),
      '',
    );
  if (r.perToken?.length)
    out.push(
      ...table(
        ['27 layers, per token', 'dispatches', 'submits', 'readbacks', 'uniform bytes', 'bytes read / min'],
        r.perToken.map((t) => [
          `${t.quant} @ ${t.context}`,
          String(t.dispatches),
          String(t.submits),
          String(t.readbacks),
          mb(t.uniformBytes),
          `${mb(t.bytesRead)} / ${mb(t.minBytes)} = ${fmt(t.ratio, 3)}`,
        ]),
      ),
      '',
    );
  const e2e = r.endToEnd.filter((e) => !e.skipped);
  if (e2e.length)
    out.push(
      ...table(
        [
          'end to end',
          'weights',
          'decode tok/s: plain loop → engine loop walked → replayed',
          'GPU busy / idle ms per token (plain loop)',
          'GPU idle ms per token (engine loop: walked → replayed)',
          'TTFT ms',
          'bytes read / min per token',
        ],
        e2e.map((e) => [
          e.model,
          e.quant,
          `${fmt(e.decodeTokPerS)} → ${fmt(e.engineDecode?.walked.tokPerS)} → ${fmt(e.engineDecode?.tokPerS)}`,
          `${fmt(e.perToken.gpuBusyMs, 1)} / ${fmt(e.perToken.gpuIdleMs, 1)}`,
          `${fmt(e.engineDecode?.walked.gpuIdleMs, 1)} → ${fmt(e.engineDecode?.gpuIdleMs, 1)}`,
          fmt(e.ttftMs, 0),
          `${mb(e.perToken.bytesRead)} / ${mb(e.perToken.minBytes)} = ${fmt(e.perToken.ratio, 3)}`,
        ]),
      ),
      '',
    );
  // the image tables as latest.md has them, without their introductions (the README says what they are)
  const image = [...imageTtftSection(r, deviceName(r)), ...followUpSection(r)];
  for (const l of image.filter((x) => x === '' || x.startsWith('|')))
    if (l !== '' || out.at(-1) !== '') out.push(l);
  return out.join('\n');
}

const deviceName = (r: BenchResult) => r.conditions.adapter.description || r.conditions.adapter.vendor;

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2] ?? new URL('./results/latest.json', import.meta.url).pathname;
  console.log(readmeFigures(JSON.parse(readFileSync(file, 'utf8')) as BenchResult));
}
