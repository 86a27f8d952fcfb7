// Row normalisations. RMSNorm (DeepSeek-V3): w · x / sqrt(mean(x²) + eps).
// LayerNorm (MoonViT, projector): (x − mean) / sqrt(var + eps) · w + b, biased variance.

/** y[r] = f(x[r]) for each row of x [rows, d]. */
function mapRows(x: Float32Array, rows: number, d: number, f: (row: Float32Array, y: Float32Array) => void) {
  const y = new Float32Array(rows * d);
  for (let r = 0; r < rows; r++) f(x.subarray(r * d, (r + 1) * d), y.subarray(r * d, (r + 1) * d));
  return y;
}

export function rmsNormRef(x: Float32Array, w: Float32Array, rows: number, d: number, eps: number) {
  return mapRows(x, rows, d, (row, y) => {
    let ss = 0;
    for (let i = 0; i < d; i++) ss += row[i]! ** 2;
    const inv = 1 / Math.sqrt(ss / d + eps);
    for (let i = 0; i < d; i++) y[i] = w[i]! * row[i]! * inv;
  });
}

export function layerNormRef(
  x: Float32Array,
  w: Float32Array,
  b: Float32Array,
  rows: number,
  d: number,
  eps: number,
) {
  return mapRows(x, rows, d, (row, y) => {
    let mean = 0;
    for (let i = 0; i < d; i++) mean += row[i]!;
    mean /= d;
    let v = 0;
    for (let i = 0; i < d; i++) v += (row[i]! - mean) ** 2;
    const inv = 1 / Math.sqrt(v / d + eps);
    for (let i = 0; i < d; i++) y[i] = (row[i]! - mean) * inv * w[i]! + b[i]!;
  });
}
