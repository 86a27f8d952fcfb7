// Row/column movement, one define per op; one invocation per output element.
//   EMBEDDING:   y[t, j] = table[ids[t], j]  (table in any weight storage form). A table in parts (vocab rows
//                r0 .. r0+rows) takes one dispatch per part; each writes the rows whose id is in its range,
//                the last part (LAST = 1) also the out-of-range ids, clamped as for a whole table.
//   SLICE:       y[r, j] = x[r0 + r, c0 + j] (columns and/or rows of a [rows, cols] matrix)
//   SPLICE:      y = x with rows[i] replaced by src[i] (image features into token embeddings)
// Dispatch: ceil(n / WG) workgroups spread over (x, y) with ROWS_X per grid row.
override WG: u32 = 256;

#if EMBEDDING
@group(0) @binding(1) var<storage, read> ids: array<u32>;      // [T]
@group(0) @binding(2) var<storage, read> w: array<u32>;        // [V, D] weight storage
@group(0) @binding(3) var<storage, read_write> y: array<f32>;  // [T, D]
#include "common/weights.wgsl"
#endif
#if SLICE
@group(0) @binding(1) var<storage, read> x: array<f32>;        // [rows, cols]
@group(0) @binding(2) var<storage, read_write> y: array<f32>;  // [count, width]
#endif
#if SPLICE
@group(0) @binding(1) var<storage, read> x: array<f32>;        // [T, D]
@group(0) @binding(2) var<storage, read> rows: array<u32>;     // [T]: source row in src + 1, or 0 = keep x
@group(0) @binding(3) var<storage, read> src: array<f32>;      // [n, D]
@group(0) @binding(4) var<storage, read_write> y: array<f32>;  // [T, D]
#endif

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let i = (wid.y * u.ROWS_X + wid.x) * WG + tid;
  if (i >= u.n) { return; }
  let r = i / u.width;
  let j = i % u.width;
#if EMBEDDING
  let id = ids[r];
  if (id < u.r0 || (id - u.r0 >= u.rows && u.LAST == 0u)) { return; }
  y[i] = w_elem(min(id - u.r0, u.rows - 1u), j);
#endif
#if SLICE
  y[i] = x[(u.r0 + r) * u.cols + u.c0 + j];
#endif
#if SPLICE
  let s = rows[r];
  y[i] = select(x[i], src[(s - 1u) * u.width + j], s > 0u);
#endif
}
