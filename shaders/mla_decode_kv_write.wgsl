// The latent cache row of each token in one pass (spec §9.4), instead of slice, slice, RMSNorm, RoPE and the
// cache write (five dispatches and four temporaries at every decode step):
//   cache[pos0 + t] = [ w · c / sqrt(mean(c²) + eps) | rope(k_pe, pos0 + t) ],   [c | k_pe] = kva[t]
// RoPE is interleaved (pair (2i, 2i+1) rotated by the host-built cos/sin table row of the position), as
// rope.wgsl. The cache is f32, or f16 with CACHE_F16 (two halves per u32 word; the width is even).
// Dispatch: one workgroup per token row T0 + x (a cache in parts: one dispatch per part, ROW0 its first
// position); lanes sum c² through workgroup memory, then each writes the columns (or word pairs) it owns.
override WG: u32 = 256;

@group(0) @binding(1) var<storage, read> kva: array<f32>;          // [T, R + P]
@group(0) @binding(2) var<storage, read> w: array<f32>;            // [R] kv_a_layernorm
@group(0) @binding(3) var<storage, read> cs: array<f32>;           // [positions, P/2, 2] (cos, sin)
#if CACHE_F16
@group(0) @binding(4) var<storage, read_write> cache: array<u32>;  // [part rows, (R + P)/2] f16 pairs
#else
@group(0) @binding(4) var<storage, read_write> cache: array<f32>;  // [part rows, R + P]: positions ROW0 ..
#endif

var<workgroup> red: array<f32, WG>;

/// Column `col` of the cache row of token t, whose row of kva starts at `base`.
fn value(base: u32, t: u32, col: u32, inv: f32) -> f32 {
  if (col < u.R) { return w[col] * (kva[base + col] * inv); }
  let p = col - u.R;
  let at = ((u.pos0 + t) * (u.P / 2u) + p / 2u) * 2u;
  let cosv = cs[at];
  let sinv = cs[at + 1u];
  let a = kva[base + u.R + (p & ~1u)];
  let b = kva[base + u.R + (p | 1u)];
  return select(b * cosv + a * sinv, a * cosv - b * sinv, (p & 1u) == 0u);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let t = u.T0 + wid.x;
  let W = u.R + u.P;
  let base = t * W;
  var q = 0.0;
  for (var i = tid; i < u.R; i += WG) { let v = kva[base + i]; q += v * v; }
  red[tid] = q;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (tid < s) { red[tid] += red[tid + s]; }
    workgroupBarrier();
  }
  let inv = inverseSqrt(red[0] / f32(u.R) + u.eps);
  let row = u.pos0 + t - u.ROW0;
#if CACHE_F16
  for (var e = tid; e < W / 2u; e += WG) {
    cache[row * (W / 2u) + e] = pack2x16float(vec2<f32>(value(base, t, 2u * e, inv), value(base, t, 2u * e + 1u, inv)));
  }
#else
  for (var col = tid; col < W; col += WG) { cache[row * W + col] = value(base, t, col, inv); }
#endif
}
