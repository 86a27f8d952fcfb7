// Latent cache rows pos0..pos0+T−1 ← [c_norm | k_pe] (spec §9.4). One thread per written value.
// A cache in parts (positions ROW0 ..) takes one dispatch per part the rows fall in: it writes the T
// token rows T0 .. T0+T of c / k_pe (one part: T0 = 0, ROW0 = 0).
override WG: u32 = 256;

@group(0) @binding(1) var<storage, read> c: array<f32>;            // [T, R]
@group(0) @binding(2) var<storage, read> kpe: array<f32>;          // [T, P]
@group(0) @binding(3) var<storage, read_write> cache: array<f32>;  // [part rows, R + P]: positions ROW0 ..

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let e = (wid.y * u.ROWS_X + wid.x) * WG + tid;
  let W = u.R + u.P;
  if (e >= u.T * W) { return; }
  let t = u.T0 + e / W;
  let col = e % W;
  var v: f32;
  if (col < u.R) { v = c[t * u.R + col]; } else { v = kpe[t * u.P + col - u.R]; }
  cache[(u.pos0 + t - u.ROW0) * W + col] = v;
}
