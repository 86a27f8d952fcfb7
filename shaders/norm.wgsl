// Row normalisation, one workgroup per row of width D.
//   default:    RMSNorm   y = w · x / sqrt(mean(x²) + eps)              (DeepSeek-V3)
//   LAYER_NORM: LayerNorm y = (x − mean) / sqrt(var + eps) · w + b     (MoonViT, projector)
// Two-pass in workgroup memory: mean first, then the centred second moment (no E[x²]−E[x]² cancellation).
// Dispatch: rows spread over (x, y) with ROWS_X workgroups per grid row.
override WG: u32 = 128;

@group(0) @binding(1) var<storage, read> x: array<f32>;        // [rows, D]
@group(0) @binding(2) var<storage, read> w: array<f32>;        // [D]
#if LAYER_NORM
@group(0) @binding(3) var<storage, read> b: array<f32>;        // [D]
@group(0) @binding(4) var<storage, read_write> y: array<f32>;  // [rows, D]
#else
@group(0) @binding(3) var<storage, read_write> y: array<f32>;  // [rows, D]
#endif

var<workgroup> red: array<f32, WG>;

fn workgroup_sum(v: f32, tid: u32) -> f32 {
  red[tid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (tid < s) { red[tid] += red[tid + s]; }
    workgroupBarrier();
  }
  let total = red[0];
  workgroupBarrier();
  return total;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let row = wid.y * u.ROWS_X + wid.x;
  if (row >= u.rows) { return; }  // uniform per workgroup, so barriers stay in uniform control flow
  let base = row * u.D;
  let d = f32(u.D);
#if LAYER_NORM
  var s = 0.0;
  for (var i = tid; i < u.D; i += WG) { s += x[base + i]; }
  let mean = workgroup_sum(s, tid) / d;
  var q = 0.0;
  for (var i = tid; i < u.D; i += WG) { let c = x[base + i] - mean; q += c * c; }
  let inv = inverseSqrt(workgroup_sum(q, tid) / d + u.eps);
  for (var i = tid; i < u.D; i += WG) { y[base + i] = (x[base + i] - mean) * inv * w[i] + b[i]; }
#else
  var q = 0.0;
  for (var i = tid; i < u.D; i += WG) { let v = x[base + i]; q += v * v; }
  let inv = inverseSqrt(workgroup_sum(q, tid) / d + u.eps);
  for (var i = tid; i < u.D; i += WG) { y[base + i] = w[i] * (x[base + i] * inv); }
#endif
}
