// Seeded data for the language kernel tests (Node and browser).
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomF32(n: number, seed: number, scale = 1): Float32Array {
  const r = mulberry32(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (r() * 2 - 1) * scale;
  return out;
}

/** Normalised mean squared error Σ(g−e)² / Σe². */
export function nmse(got: ArrayLike<number>, exp: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < exp.length; i++) {
    num += (got[i]! - exp[i]!) ** 2;
    den += exp[i]! ** 2;
  }
  return den === 0 ? num : num / den;
}
