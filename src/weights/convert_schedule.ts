// Converting while the shards arrive (storage side of "cache only the converted form"): which original
// shards to fetch before each converted weight, when each can be released, and the storage peak that
// order predicts. Pure: it reads the index's tensor → file map (source.info(name).file) and sizes only.
//
// The conversion walks the weights in an order that follows the original files: a weight joins the
// group of the last file (in fetch order) it reads, so the weights of shard 1 are converted first,
// then those that need shard 2 (a stacked expert weight whose 64 tensors span shards 1 and 2 among
// them), and so on. Hugging Face's files are not in engine order (the vision tower comes first, the
// LM head last, and exporters differ), so the order is computed from the index, never assumed: the
// fetch order is the best of a few candidates by predicted peak (chooseFetchOrder), never the index's
// own order (first appearance in its name-sorted weight_map: shards 7,1,3,4,5,6,2 for the real model).
// Downloads run in fetch order, at most `window` original files held at once (downloading or
// complete, not yet released) — more only when one weight reads more files than that; a file is
// released right after its last reader is converted.
import type { PlannedWeight } from './assemble.ts';
import type { TensorSource } from './checkpoint.ts';
import { encodeSafetensorsHeader } from './safetensors.ts';
import { planShards, type ShardPlan } from './shard_plan.ts';

/** Original shards held at once while converting as they arrive (downloading or complete, not released). */
export const STREAM_WINDOW = 2;

/** The bytes of the `window` largest shards: the most of the original a streamed conversion holds. */
export function windowBytes(shardSizes: readonly number[], window = STREAM_WINDOW): number {
  return [...shardSizes]
    .sort((a, b) => b - a)
    .slice(0, window)
    .reduce((n, b) => n + b, 0);
}

/** The source tensors a planned weight reads (HF names: several for a stacked expert weight). */
export function sourceTensors(p: PlannedWeight, source: TensorSource): string[] {
  return source.naming === 'hf' ? p.spec.hf : [p.spec.name];
}

function filesOf(p: PlannedWeight, source: TensorSource): string[] {
  return [...new Set(sourceTensors(p, source).map((n) => source.info(n).file))];
}

/**
 * The order to fetch the original files in: as the engine's weight order (Hugging Face module order:
 * vision, projector, embedding, layers, head) first reads them. Not the index's order: its weight_map is
 * keyed by name, so the first shard it names may hold the LM head, and layer 10 sorts before layer 2;
 * fetching in that order held 5 of the 7 real shards at once. Files no weight reads are left out.
 */
export function firstUseOrder(plan: readonly PlannedWeight[], source: TensorSource): string[] {
  const out = new Set<string>();
  for (const p of plan) for (const f of filesOf(p, source)) out.add(f);
  return [...out];
}

/**
 * The plan reordered to follow the original files: stable sort by the fetch rank of the last file a
 * weight reads. `fileOrder` is the fetch order; files it omits rank last.
 */
export function followFiles(
  plan: readonly PlannedWeight[],
  source: TensorSource,
  fileOrder: readonly string[],
): PlannedWeight[] {
  const rank = new Map(fileOrder.map((f, i) => [f, i]));
  const key = (p: PlannedWeight) =>
    Math.max(...filesOf(p, source).map((f) => rank.get(f) ?? fileOrder.length));
  return plan
    .map((p, i) => ({ p, i, k: key(p) }))
    .sort((a, b) => a.k - b.k || a.i - b.i)
    .map((x) => x.p);
}

export interface ConvertSchedule {
  /** Original files in the order they are fetched (only those some weight reads). */
  fetchOrder: string[];
  /** Weight index (conversion order) → the files that must be complete before it is converted. */
  needs: string[][];
  /** Weight index → the files whose last reader it is (released right after it). */
  releaseAfter: Map<number, string[]>;
  /** Predicted storage peak: held originals (fully downloaded, worst case) + converted bytes so far. */
  peakBytes: number;
  /** Most original files held at once. */
  peakFiles: number;
  /** Bytes of the converted copy (headers included). */
  convertedBytes: number;
  /** Storage at the peak, split: originals held and converted bytes written then. */
  peakParts: { originals: number; converted: number; atWeight: number };
}

export interface ScheduleInput {
  /** Converted shards (planShards of the conversion order); their weights in order are the order. */
  shards: readonly ShardPlan[];
  /** Safetensors file size of each converted shard (header + data), in shard order. */
  shardFileBytes: readonly number[];
  source: TensorSource;
  /** Byte size of each original file. */
  originalBytes: ReadonlyMap<string, number>;
  /** Fetch order of the original files (chooseFetchOrder). */
  fileOrder: readonly string[];
  /** Original files held at once (downloading or complete, not released). Default 2. */
  window?: number;
}

/**
 * Simulates the interleaved download + conversion and returns what to fetch before each weight, when
 * each file goes, and the storage peak (originals counted whole from the moment their download starts:
 * the worst case; the converted bytes as written, a shard's header with its first weight).
 */
export function planConvertSchedule(input: ScheduleInput): ConvertSchedule {
  const window = Math.max(1, input.window ?? STREAM_WINDOW);
  const order = input.shards.flatMap((s) => s.weights);
  const needs = order.map((p) => filesOf(p, input.source));
  const read = new Set(needs.flat());
  const rank = new Map(input.fileOrder.map((f, i) => [f, i]));
  const fetchOrder = [...read].sort(
    (a, b) =>
      (rank.get(a) ?? Number.MAX_SAFE_INTEGER) - (rank.get(b) ?? Number.MAX_SAFE_INTEGER) || (a < b ? -1 : 1),
  );
  const last = new Map<string, number>();
  needs.forEach((fs, i) => {
    for (const f of fs) last.set(f, i);
  });
  const releaseAfter = new Map<number, string[]>();
  for (const [f, i] of last) releaseAfter.set(i, [...(releaseAfter.get(i) ?? []), f]);

  const sizeOf = (f: string) => input.originalBytes.get(f) ?? 0;
  const held = new Set<string>();
  let next = 0;
  let heldBytes = 0;
  let converted = 0;
  let peak = { originals: 0, converted: 0, atWeight: -1 };
  let peakFiles = 0;
  const fetchNext = () => {
    const f = fetchOrder[next++]!;
    held.add(f);
    heldBytes += sizeOf(f);
  };
  let w = 0;
  for (const [si, shard] of input.shards.entries()) {
    const dataBytes = shard.entries.reduce((n, e) => n + e.bytes, 0);
    converted += input.shardFileBytes[si]! - dataBytes; // the header, written first
    for (const [j] of shard.weights.entries()) {
      // in fetch order: everything up to this weight's last file, then prefetch up to the window
      while (needs[w]!.some((f) => !held.has(f) && fetchOrder.indexOf(f) >= next)) fetchNext();
      while (next < fetchOrder.length && held.size < window) fetchNext();
      converted += shard.entries[j]!.bytes;
      peakFiles = Math.max(peakFiles, held.size);
      if (heldBytes + converted > peak.originals + peak.converted)
        peak = { originals: heldBytes, converted, atWeight: w };
      for (const f of releaseAfter.get(w) ?? []) {
        held.delete(f);
        heldBytes -= sizeOf(f);
      }
      w++;
    }
  }
  return {
    fetchOrder,
    needs,
    releaseAfter,
    peakBytes: peak.originals + peak.converted,
    peakFiles,
    convertedBytes: converted,
    peakParts: peak,
  };
}

/**
 * Files in the order a chain of weights links them: from the first file the plan uses, next the
 * unfetched file sharing a weight (a stacked expert spanning two shards) with the latest fetched one,
 * else the next by first use. On name-sorted shards (layers 0, 1, 2, then projector, then vision) this
 * walks vision → layer 2 → layer 1 → layer 0, holding two files where first use would hold three.
 */
export function chainOrder(plan: readonly PlannedWeight[], source: TensorSource): string[] {
  const first = firstUseOrder(plan, source);
  const linked = new Map<string, Set<string>>(first.map((f) => [f, new Set()]));
  for (const p of plan) {
    const fs = filesOf(p, source);
    for (const a of fs) for (const b of fs) if (a !== b) linked.get(a)!.add(b);
  }
  const out: string[] = [];
  const left = new Set(first);
  while (left.size > 0) {
    let next: string | undefined;
    for (let i = out.length - 1; i >= 0 && !next; i--)
      next = first.find((f) => left.has(f) && linked.get(out[i]!)!.has(f));
    next ??= first.find((f) => left.has(f))!;
    out.push(next);
    left.delete(next);
  }
  return out;
}

/**
 * The fetch order with the lowest predicted storage peak among a few candidates (first use, the
 * chain of shared weights, the files' names sorted, the index's order), with its schedule and the
 * conversion order that follows it.
 */
export function chooseFetchOrder(
  plan: readonly PlannedWeight[],
  source: TensorSource,
  originalBytes: ReadonlyMap<string, number>,
  shardBytes: number,
  indexOrder: readonly string[] = [],
): { fileOrder: string[]; order: PlannedWeight[]; schedule: ConvertSchedule } {
  const used = new Set(firstUseOrder(plan, source));
  const candidates = [
    firstUseOrder(plan, source),
    chainOrder(plan, source),
    [...used].sort(),
    indexOrder.filter((f) => used.has(f)),
  ].filter((c) => c.length === used.size);
  let best: { fileOrder: string[]; order: PlannedWeight[]; schedule: ConvertSchedule } | null = null;
  for (const fileOrder of candidates) {
    const order = followFiles(plan, source, fileOrder);
    const shards = planShards(order, shardBytes);
    const schedule = planConvertSchedule({
      shards,
      shardFileBytes: shards.map(
        (s) => encodeSafetensorsHeader(s.entries, { format: 'kimi-vl-web' }).fileSize,
      ),
      source,
      originalBytes,
      fileOrder,
    });
    if (!best || schedule.peakBytes < best.schedule.peakBytes) best = { fileOrder, order, schedule };
  }
  return best!;
}
