// y[n] = Σ_k x[k] · w[n, k] (+ bias[n]) for one activation row (decode). Bandwidth-bound: every weight
// byte is read exactly once.
// Dispatch: one workgroup per output row n, rows laid out 2-D as (x = n % ROWS_X, y = n / ROWS_X) to
// stay under maxComputeWorkgroupsPerDimension; WG threads stride over K and reduce in workgroup memory.
override WG: u32 = 128;

@group(0) @binding(1) var<storage, read> x: array<f32>;        // [K]
@group(0) @binding(2) var<storage, read> w: array<u32>;        // [N, K] in the W_* storage form
@group(0) @binding(3) var<storage, read_write> y: array<f32>;  // [N]
#if HAS_BIAS
@group(0) @binding(4) var<storage, read> bias: array<f32>;     // [N]
#endif

#include "common/weights.wgsl"

var<workgroup> partial: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let n = wid.y * u.ROWS_X + wid.x;
  var acc = 0.0;
  if (n < u.N) {
    for (var k = tid; k < u.K; k += WG) {
      acc += x[k] * w_elem(n, k);
    }
  }
  partial[tid] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (tid < s) { partial[tid] += partial[tid + s]; }
    workgroupBarrier();
  }
  if (tid == 0u && n < u.N) {
    var r = partial[0];
#if HAS_BIAS
    r += bias[n];
#endif
    y[n] = r;
  }
}
