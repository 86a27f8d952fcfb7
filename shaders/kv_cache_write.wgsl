// Latent cache rows pos0..pos0+T−1 ← [c_norm | k_pe] (spec §9.4). One thread per written value; with
// CACHE_F16 one thread per pair of values, stored as two halves in one u32 word (the width R + P is even,
// so a word never straddles rows; the bytes are those of a native f16 array, which shader-f16 kernels read).
// A cache in parts (positions ROW0 ..) takes one dispatch per part the rows fall in: it writes the T
// token rows T0 .. T0+T of c / k_pe (one part: T0 = 0, ROW0 = 0).
override WG: u32 = 256;

@group(0) @binding(1) var<storage, read> c: array<f32>;            // [T, R]
@group(0) @binding(2) var<storage, read> kpe: array<f32>;          // [T, P]
#if CACHE_F16
@group(0) @binding(3) var<storage, read_write> cache: array<u32>;  // [part rows, (R + P)/2] f16 pairs
#else
@group(0) @binding(3) var<storage, read_write> cache: array<f32>;  // [part rows, R + P]: positions ROW0 ..
#endif

fn value(t: u32, col: u32) -> f32 {
  if (col < u.R) { return c[t * u.R + col]; }
  return kpe[t * u.P + col - u.R];
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let e = (wid.y * u.ROWS_X + wid.x) * WG + tid;
  let W = u.R + u.P;
#if CACHE_F16
  let W2 = W / 2u;
  if (e >= u.T * W2) { return; }
  let t = u.T0 + e / W2;
  let col = 2u * (e % W2);
  cache[(u.pos0 + t - u.ROW0) * W2 + col / 2u] = pack2x16float(vec2<f32>(value(t, col), value(t, col + 1u)));
#else
  if (e >= u.T * W) { return; }
  let t = u.T0 + e / W;
  let col = e % W;
  cache[(u.pos0 + t - u.ROW0) * W + col] = value(t, col);
#endif
}
