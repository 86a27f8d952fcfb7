// Row softmax over the last dim D, max-subtracted; one workgroup per row.
// Dispatch: rows spread over (x, y) with ROWS_X workgroups per grid row.
override WG: u32 = 128;

@group(0) @binding(1) var<storage, read> x: array<f32>;        // [rows, D]
@group(0) @binding(2) var<storage, read_write> y: array<f32>;  // [rows, D]

var<workgroup> red: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let row = wid.y * u.ROWS_X + wid.x;
  if (row >= u.rows) { return; }
  let base = row * u.D;
  var m = -3.4e38;
  for (var i = tid; i < u.D; i += WG) { m = max(m, x[base + i]); }
  red[tid] = m;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (tid < s) { red[tid] = max(red[tid], red[tid + s]); }
    workgroupBarrier();
  }
  m = red[0];
  workgroupBarrier();
  var sum = 0.0;
  for (var i = tid; i < u.D; i += WG) { sum += exp(x[base + i] - m); }
  red[tid] = sum;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (tid < s) { red[tid] += red[tid + s]; }
    workgroupBarrier();
  }
  let inv = 1.0 / red[0];
  for (var i = tid; i < u.D; i += WG) { y[base + i] = exp(x[base + i] - m) * inv; }
}
