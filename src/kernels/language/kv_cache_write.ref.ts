// Latent MLA cache row = [c_norm (R) | roped k_pe (P)] (spec §9.4: 576 values per token and layer).
export function kvCacheWriteRef(
  cache: Float32Array,
  cNorm: Float32Array,
  kPe: Float32Array,
  rows: number,
  rank: number,
  rope: number,
  pos0: number,
): void {
  const w = rank + rope;
  for (let t = 0; t < rows; t++) {
    cache.set(cNorm.subarray(t * rank, (t + 1) * rank), (pos0 + t) * w);
    cache.set(kPe.subarray(t * rope, (t + 1) * rope), (pos0 + t) * w + rank);
  }
}
