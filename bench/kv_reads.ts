// Latent-cache bytes an attention dispatch streams, for the per-token byte count. A dispatch that reports
// bytesRead itself is trusted (reported: true); for the two decode kernels that do not, the rows they read
// follow from their geometry:
//   mla_attention_attend (the old kernel, baseline_* in bench/baseline/): every (head, split) workgroup streams its keys, so each visible
//     row is read once per head: H × keys × (R + P) × element bytes.
//   mla_decode (all heads per row): a workgroup per (split, head group) streams its split's keys once per
//     head group: groups × keys × (R + P) × element bytes.
import type { DispatchSpec } from '../src/gpu/runtime.ts';

const NO_END = 0xffffffff;

function elementBytes(dtype: string): number {
  return dtype === 'f32' || dtype === 'u32' ? 4 : 2;
}

/** Keys of the cache part bound here that a query at pos0 sees (the whole part when pos0 is unknown). */
function visibleKeys(rows: number, p: Record<string, number>, pos0?: number): number {
  const key0 = p.KEY0 ?? 0;
  const end = p.KEY_END === undefined || p.KEY_END === NO_END ? key0 + rows : p.KEY_END;
  const last = pos0 === undefined ? end : Math.min(end, pos0 + 1);
  return Math.max(0, last - key0);
}

export function modelledCacheBytes(
  spec: DispatchSpec,
  kvWidth: number,
): { bytes: number; reported: boolean } | null {
  const p = spec.params as Record<string, number>;
  const perHead = spec.op === 'mla_attention_attend' || spec.op === 'baseline_mla_attention_attend';
  if (!perHead && spec.op !== 'mla_decode') return null;
  const reported = (spec as { bytesRead?: number }).bytesRead;
  if (reported !== undefined) return { bytes: reported, reported: true };
  const cache = spec.bindings[1]?.tensor;
  if (!cache) return null;
  const rows = cache.shape[0] ?? 0;
  const elt = elementBytes(cache.dtype);
  if (perHead) {
    // one query row per token: the key extents of a decode step (T = 1) at pos0
    const T = spec.bindings[0]?.tensor.shape[0] ?? 1;
    const H = p.H ?? 1;
    return { bytes: T * H * visibleKeys(rows, p, p.pos0) * kvWidth * elt, reported: false };
  }
  const groups = spec.workgroups[1] ?? 1;
  return { bytes: groups * visibleKeys(rows, p) * kvWidth * elt, reported: false };
}
