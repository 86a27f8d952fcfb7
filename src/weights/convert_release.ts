// Cache only the converted form, storage side: while a bf16 original is converted (load_convert.ts),
// each original shard is deleted from the cache as soon as the last weight that reads it is converted
// (cache_put.ts releaseCachedFile), instead of the whole original at the end. The conversion walks the
// weights in plan order, so a shard is released at the plan index of its last reader; the originals
// then shrink while the converted copy grows, and the end state is the converted form alone.
import type { PlannedWeight } from './assemble.ts';
import type { TensorSource } from './checkpoint.ts';

/** The source tensors a planned weight reads (HF names: several for a stacked expert weight). */
function sourceTensors(p: PlannedWeight, source: TensorSource): string[] {
  return source.naming === 'hf' ? p.spec.hf : [p.spec.name];
}

/**
 * For weights in conversion order, the original files that can be released right after each one:
 * index i → the files whose last reader is weight i. Files no weight reads are not listed (they are
 * released with the entry at the end, as before).
 */
export function releaseSchedule(
  order: readonly PlannedWeight[],
  source: TensorSource,
): Map<number, string[]> {
  const last = new Map<string, number>();
  order.forEach((p, i) => {
    for (const name of sourceTensors(p, source)) last.set(source.info(name).file, i);
  });
  const out = new Map<number, string[]>();
  for (const [file, i] of last) out.set(i, [...(out.get(i) ?? []), file]);
  return out;
}
