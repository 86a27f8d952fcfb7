// Row/column movement: embedding gather, slices, and the splice of image features into token rows.
export function embeddingRef(ids: Uint32Array, table: Float32Array, d: number): Float32Array {
  const y = new Float32Array(ids.length * d);
  for (let t = 0; t < ids.length; t++) y.set(table.subarray(ids[t]! * d, ids[t]! * d + d), t * d);
  return y;
}

export function sliceColsRef(
  x: Float32Array,
  rows: number,
  cols: number,
  start: number,
  width: number,
): Float32Array {
  const y = new Float32Array(rows * width);
  for (let r = 0; r < rows; r++) y.set(x.subarray(r * cols + start, r * cols + start + width), r * width);
  return y;
}

export function spliceRowsRef(
  x: Float32Array,
  d: number,
  rows: readonly number[],
  src: Float32Array,
): Float32Array {
  const y = new Float32Array(x);
  for (let i = 0; i < rows.length; i++) y.set(src.subarray(i * d, i * d + d), rows[i]! * d);
  return y;
}
