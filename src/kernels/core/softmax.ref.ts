// Row softmax over the last dimension, max-subtracted.
export function softmaxRef(x: Float32Array, rows: number, d: number): Float32Array {
  const y = new Float32Array(rows * d);
  for (let r = 0; r < rows; r++) {
    let m = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < d; i++) m = Math.max(m, x[r * d + i]!);
    let s = 0;
    for (let i = 0; i < d; i++) s += Math.exp(x[r * d + i]! - m);
    for (let i = 0; i < d; i++) y[r * d + i] = Math.exp(x[r * d + i]! - m) / s;
  }
  return y;
}
