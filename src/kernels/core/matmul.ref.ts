// y[M,N] = x[M,K] · w[N,K]ᵀ (+ bias[N]), f64 accumulation. The oracle for every matmul/matvec variant
// (the GPU's f16/bf16/q8/q4 paths are compared against this on the dequantised weights).
export function matmulRef(
  x: Float32Array,
  w: Float32Array,
  m: number,
  k: number,
  n: number,
  bias?: Float32Array,
): Float32Array {
  const y = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    const xo = i * k;
    for (let j = 0; j < n; j++) {
      const wo = j * k;
      let acc = bias ? bias[j]! : 0;
      for (let p = 0; p < k; p++) acc += x[xo + p]! * w[wo + p]!;
      y[i * n + j] = acc;
    }
  }
  return y;
}
