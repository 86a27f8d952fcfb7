// How assembled engine weights are cut into safetensors shards: the one plan used by `kimi-vl convert`
// (convert_node.ts, Node) and the browser's on-the-fly conversion cache (load_convert.ts). Sizes only:
// dtype and shape fix every byte count, so the shards and their headers are known before any tensor is read.
import type { PlannedWeight } from './assemble.ts';
import { type SafetensorsEntry, tensorByteSize, WEIGHT_TO_SAFETENSORS } from './safetensors.ts';

export interface ShardPlan {
  /** `model-00001-of-00003.safetensors`. */
  file: string;
  /** The weights in this shard, in plan order. */
  weights: PlannedWeight[];
  /** Their safetensors header entries, one per weight (`bytes` = the data length). */
  entries: SafetensorsEntry[];
}

/**
 * Cuts `plan` (in order) into shards of at most `maxBytes` data bytes. A weight larger than `maxBytes`
 * gets a shard of its own. The zero-byte edge: a new shard opens only when the current one already
 * holds data and the next weight adds bytes past the bound, so a zero-byte weight never opens a shard
 * and no shard holds zero data bytes (unless every weight is empty: then one shard holds them all).
 * An empty plan gives no shards.
 */
export function planShards(plan: readonly PlannedWeight[], maxBytes: number): ShardPlan[] {
  const shards: ShardPlan[] = [];
  let cur: ShardPlan | null = null;
  let curBytes = 0;
  for (const p of plan) {
    const dtype = WEIGHT_TO_SAFETENSORS[p.dtype];
    const bytes = tensorByteSize(dtype, p.spec.shape);
    if (!cur || (curBytes > 0 && bytes > 0 && curBytes + bytes > maxBytes)) {
      cur = { file: '', weights: [], entries: [] };
      shards.push(cur);
      curBytes = 0;
    }
    cur.weights.push(p);
    cur.entries.push({ name: p.spec.name, dtype, shape: p.spec.shape, bytes });
    curBytes += bytes;
  }
  const pad = (i: number) => String(i).padStart(5, '0');
  shards.forEach((s, i) => {
    s.file = `model-${pad(i + 1)}-of-${pad(shards.length)}.safetensors`;
  });
  return shards;
}
