// Elementwise ops over n values, one define per op: OP_ADD (a + b), OP_SILU_MUL (silu(a)·b),
// OP_GELU_ERF / OP_GELU_TANH (gelu(a); the two named forms — MoonViT's MLP uses tanh, the projector erf).
// Dispatch: ceil(n / WG) workgroups, spread over (x, y) by ROWS_X = workgroups per row of the grid.
override WG: u32 = 256;

@group(0) @binding(1) var<storage, read> a: array<f32>;        // [n]
#if BINARY
@group(0) @binding(2) var<storage, read> b: array<f32>;        // [n]
@group(0) @binding(3) var<storage, read_write> y: array<f32>;  // [n]
#else
@group(0) @binding(2) var<storage, read_write> y: array<f32>;  // [n]
#endif

#include "common/math.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let i = (wid.y * u.ROWS_X + wid.x) * WG + tid;
  if (i >= u.n) { return; }
#if OP_ADD
  y[i] = a[i] + b[i];
#endif
#if OP_SILU_MUL
  let g = a[i];
  y[i] = g / (1.0 + exp(-g)) * b[i];
#endif
#if OP_GELU_ERF
  let v = a[i];
  y[i] = 0.5 * v * (1.0 + erf_approx(v * 0.7071067811865476));
#endif
#if OP_GELU_TANH
  let v = a[i];
  y[i] = 0.5 * v * (1.0 + tanh_stable(0.7978845608028654 * (v + 0.044715 * v * v * v)));
#endif
}
