// Row normalisations. RMSNorm (DeepSeek-V3): w · x / sqrt(mean(x²) + eps).
// LayerNorm (MoonViT, projector): (x − mean) / sqrt(var + eps) · w + b, biased variance.
export function rmsNormRef(
  x: Float32Array,
  w: Float32Array,
  rows: number,
  d: number,
  eps: number,
): Float32Array {
  const y = new Float32Array(rows * d);
  for (let r = 0; r < rows; r++) {
    let ss = 0;
    for (let i = 0; i < d; i++) ss += x[r * d + i]! ** 2;
    const inv = 1 / Math.sqrt(ss / d + eps);
    for (let i = 0; i < d; i++) y[r * d + i] = w[i]! * x[r * d + i]! * inv;
  }
  return y;
}

export function layerNormRef(
  x: Float32Array,
  w: Float32Array,
  b: Float32Array,
  rows: number,
  d: number,
  eps: number,
): Float32Array {
  const y = new Float32Array(rows * d);
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    for (let i = 0; i < d; i++) mean += x[r * d + i]!;
    mean /= d;
    let v = 0;
    for (let i = 0; i < d; i++) v += (x[r * d + i]! - mean) ** 2;
    const inv = 1 / Math.sqrt(v / d + eps);
    for (let i = 0; i < d; i++) y[r * d + i] = (x[r * d + i]! - mean) * inv * w[i]! + b[i]!;
  }
  return y;
}
