// Frees every tensor reachable from a weights object (nested records and arrays), each once.

import type { CoreOps } from '../kernels/types.ts';
import type { Tensor } from '../tensor/types.ts';

function isTensor(v: unknown): v is Tensor {
  return typeof v === 'object' && v !== null && 'shape' in v && 'dtype' in v;
}

export function releaseTree(k: Pick<CoreOps, 'release'>, root: unknown): void {
  const seen = new Set<unknown>();
  const walk = (v: unknown): void => {
    if (typeof v !== 'object' || v === null || seen.has(v)) return;
    seen.add(v);
    if (isTensor(v)) {
      k.release(v);
      return;
    }
    for (const child of Array.isArray(v) ? v : Object.values(v)) walk(child);
  };
  walk(root);
}
