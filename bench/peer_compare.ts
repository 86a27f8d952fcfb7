// One side-by-side measurement: our kernel (under a forced variant) and one or more peer graphs for the
// same inputs. The peer's best option is the one reported (each option's time is kept in the row), and the
// two outputs' agreement proves both computed the same thing.
import type { Tensor } from '../src/tensor/types.ts';
import type { BenchContext } from './kernel_bench.ts';
import { type PeerInput, runPeer } from './peer_ort.ts';
import { type TimingOptions, timeRuns } from './timing.ts';
import { PEER_AGREEMENT, type PeerRow } from './types.ts';
import { describeVariant, type Variant, withVariant } from './variants.ts';

export const bytesOf = (a: Float32Array | Uint16Array | Uint8Array) =>
  new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** max |ours − theirs| / max |theirs|; NaN when the lengths differ or the reference is all zero. */
export function agreement(ours: Float32Array, theirs: Float32Array): number {
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < theirs.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(ours[i]! - theirs[i]!));
    maxRef = Math.max(maxRef, Math.abs(theirs[i]!));
  }
  return ours.length === theirs.length && maxRef > 0 ? maxDiff / maxRef : Number.NaN;
}

/** [rows, cols] of 16- or 32-bit elements → [cols, rows]. */
export function transpose<T extends Float32Array | Uint16Array>(a: T, rows: number, cols: number): T {
  const out = new (a.constructor as { new (n: number): T })(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = a[r * cols + c]!;
  return out;
}

/**
 * The first run of each side already compiles and warms (it gives the output for the agreement), so
 * one warm-up fewer is timed than the config asks for.
 */
export function afterFirstRun(t: TimingOptions): TimingOptions {
  return { ...t, warmup: Math.max(0, t.warmup - 1) };
}

/** One way the peer can run the op (e.g. MatMulNBits at accuracy_level 0 or 4). */
export interface PeerOption {
  label: string;
  model: () => Uint8Array;
  /** This option's inputs and our output in its layout, where they differ from the comparison's. */
  inputs?: () => PeerInput[];
  oursLayout?: (o: Float32Array) => Float32Array;
}

export interface Comparison {
  row: PeerRow;
  variant: Variant;
  ours: () => Tensor;
  options: PeerOption[];
  inputs?: PeerInput[];
  /** Our output in the peer's layout. */
  oursLayout?: (o: Float32Array) => Float32Array;
}

export async function compare(c: BenchContext, cmp: Comparison): Promise<PeerRow> {
  const { row } = cmp;
  row.variant = describeVariant(c.rt, cmp.variant);
  const timing = afterFirstRun(c.timing);
  const mine = await withVariant(c.rt, cmp.variant, async () => {
    const y = cmp.ours();
    const out = await c.k.read(y);
    c.k.release(y);
    const t = await timeRuns(
      () => c.k.release(cmp.ours()),
      () => c.rt.sync(),
      timing,
    );
    return { ms: t.ms, out };
  });
  row.oursMs = mine.ms;
  const tried: NonNullable<PeerRow['peerOptions']> = [];
  let best: { ms: number; label: string; agreement: number } | null = null;
  for (const o of cmp.options) {
    try {
      const peer = await runPeer(o.model(), o.inputs?.() ?? cmp.inputs ?? [], timing);
      const layout = o.oursLayout ?? cmp.oursLayout ?? ((x: Float32Array) => x);
      const agrees = agreement(layout(mine.out), peer.output);
      tried.push({ label: o.label, ms: peer.timing.ms, agreement: agrees });
      // A peer form that computes something else is no timing reference: listed, never chosen.
      if (agrees < PEER_AGREEMENT && (!best || peer.timing.ms < best.ms))
        best = { ms: peer.timing.ms, label: o.label, agreement: agrees };
    } catch (e) {
      tried.push({ label: o.label, failed: (e as Error).message.split('\n')[0]!.slice(0, 160) });
    }
  }
  row.peerOptions = tried;
  if (!best) {
    const why = (t: (typeof tried)[number]) =>
      t.failed ?? `disagrees with ours by ${t.agreement!.toExponential(1)}`;
    row.skipped = `skipped: peer failed (${tried.map((t) => `${t.label}: ${why(t)}`).join('; ')})`;
    return row;
  }
  row.peerMs = best.ms;
  row.peerOp = best.label;
  row.ratio = mine.ms / best.ms;
  row.agreement = best.agreement;
  if (row.bytes) {
    row.oursGBps = row.bytes / (mine.ms * 1e-3) / 1e9;
    row.peerGBps = row.bytes / (best.ms * 1e-3) / 1e9;
  }
  return row;
}
