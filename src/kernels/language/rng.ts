// Counter-based RNG for sampling: one uniform per (seed, step), no state. Both samplers (reference and
// GPU, whose wrapper passes the value as a uniform) use this exact number. PCG-RXS-M-XS 32-bit hash
// (Jarzynski & Olano, "Hash Functions for GPU Rendering", JCGT 2020).
export function pcgHash(v: number): number {
  const state = (Math.imul(v >>> 0, 747796405) + 2891336453) >>> 0;
  const word = Math.imul(((state >>> ((state >>> 28) + 4)) ^ state) >>> 0, 277803737) >>> 0;
  return ((word >>> 22) ^ word) >>> 0;
}

/** Uniform in [0, 1) with 24 bits, exactly representable in f32. */
export function uniformForStep(seed: number, step: number): number {
  const h = pcgHash((pcgHash(seed >>> 0) ^ (step >>> 0)) >>> 0);
  return (h >>> 8) / 16777216;
}
