// Latent cache rows pos0..pos0+T−1 ← [c_norm | k_pe] (spec §9.4). One thread per written value.
override WG: u32 = 256;

@group(0) @binding(1) var<storage, read> c: array<f32>;            // [T, R]
@group(0) @binding(2) var<storage, read> kpe: array<f32>;          // [T, P]
@group(0) @binding(3) var<storage, read_write> cache: array<f32>;  // [ctx, R + P]

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let e = (wid.y * u.ROWS_X + wid.x) * WG + tid;
  let W = u.R + u.P;
  if (e >= u.T * W) { return; }
  let t = e / W;
  let col = e % W;
  var v: f32;
  if (col < u.R) { v = c[t * u.R + col]; } else { v = kpe[t * u.P + col - u.R]; }
  cache[(u.pos0 + t) * W + col] = v;
}
