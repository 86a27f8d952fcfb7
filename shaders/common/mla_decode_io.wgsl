// The bindings and the cache read both MLA decode forms share (mla_decode.wgsl, mla_decode_hq.wgsl):
// q, the latent cache in one of three forms (a CACHE_* define), and the partial outputs per split.
@group(0) @binding(1) var<storage, read> qcat: array<f32>;          // [H, W]
#if CACHE_F32
@group(0) @binding(2) var<storage, read> cache: array<f32>;         // [part rows, W]: positions KEY0 ..
#endif
#if CACHE_F16_PACKED
@group(0) @binding(2) var<storage, read> cache: array<u32>;         // [part rows, W/2] halves, two per word
#endif
#if CACHE_F16_NATIVE
@group(0) @binding(2) var<storage, read> cache: array<vec2<f16>>;   // [part rows, W/2]
#endif
@group(0) @binding(3) var<storage, read_write> part: array<f32>;    // [SPLITS, H, R] unnormalised o
@group(0) @binding(4) var<storage, read_write> ml: array<f32>;      // [SPLITS, H, 2] (max, denominator)

/// Columns 2i, 2i+1 of the flattened part, as f32.
fn cache_pair(i: u32) -> vec2<f32> {
#if CACHE_F32
  return vec2<f32>(cache[2u * i], cache[2u * i + 1u]);
#endif
#if CACHE_F16_PACKED
  return unpack2x16float(cache[i]);
#endif
#if CACHE_F16_NATIVE
  return vec2<f32>(cache[i]);
#endif
}
