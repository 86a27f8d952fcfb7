// MLA step 3 (spec §9.4): o[t, h, i] = W_UV[h][i] · o_lat[t, h], W_UV[h] = rows h·(N+V)+N .. +V of kv_b.
// Dispatch: one workgroup per kv_b row (h, i) (x + y·ROWS_X); the row is unpacked once into workgroup
// memory and reused for every token (prefill), then each token's dot is a tree reduction over WG threads.
override WG: u32 = 64;
const MAX_R: u32 = 1088u;

@group(0) @binding(1) var<storage, read> olat: array<f32>;          // [T, H, R]
@group(0) @binding(2) var<storage, read> w: array<u32>;             // kv_b [H·(N+V), R] (W_* form)
@group(0) @binding(3) var<storage, read_write> o: array<f32>;       // [T, H·V]

#include "common/weights.wgsl"

var<workgroup> ws: array<f32, MAX_R>;
var<workgroup> partial: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let hi = wid.y * u.ROWS_X + wid.x;   // h·V + i; the grid is exact
  let h = hi / u.V;
  let i = hi % u.V;
  let row = h * (u.N + u.V) + u.N + i;
  for (var r = tid; r < u.K; r += WG) { ws[r] = w_elem(row, r); }
  workgroupBarrier();
  for (var t = 0u; t < u.T; t++) {
    let base = (t * u.H + h) * u.K;
    var acc = 0.0;
    for (var r = tid; r < u.K; r += WG) { acc += ws[r] * olat[base + r]; }
    partial[tid] = acc;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
      if (tid < s) { partial[tid] += partial[tid + s]; }
      workgroupBarrier();
    }
    if (tid == 0u) { o[t * u.H * u.V + hi] = partial[0]; }
    workgroupBarrier();
  }
}
