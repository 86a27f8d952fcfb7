// MLA prefill, step 1: the latent rows the prefill attends to, read back from the cache (after this
// chunk's rows were written), so a follow-up turn's queries see the cached prefix too:
//   c[j] = cache[j, 0 .. R),  kpe[j] = cache[j, R .. R+P)   for positions j < KEYS.
// The cache stays in its storage form (f32, or f16 packed two per u32 with CACHE_F16); c and kpe are f32.
// A cache in parts (positions ROW0 .. ROW0 + ROWS of one part) takes one dispatch per part.
// Dispatch: one thread per copied value, ROWS · (R + P) of them, over (x + y·ROWS_X) workgroups of WG.
override WG: u32 = 256;

#if CACHE_F16
@group(0) @binding(1) var<storage, read> cache: array<u32>;       // [part rows, R + P] f16, two per word
fn cacheAt(e: u32) -> f32 { return unpack2x16float(cache[e / 2u])[e % 2u]; }
#else
@group(0) @binding(1) var<storage, read> cache: array<f32>;       // [part rows, R + P]
fn cacheAt(e: u32) -> f32 { return cache[e]; }
#endif
@group(0) @binding(2) var<storage, read_write> c: array<f32>;     // [KEYS, R]
@group(0) @binding(3) var<storage, read_write> kpe: array<f32>;   // [KEYS, P]

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let e = (wid.y * u.ROWS_X + wid.x) * WG + tid;
  let W = u.R + u.P;
  if (e >= u.ROWS * W) { return; }
  let row = e / W;  // within the part
  let col = e % W;
  let j = u.ROW0 + row;
  let v = cacheAt(e);
  if (col < u.R) { c[j * u.R + col] = v; } else { kpe[j * u.P + col - u.R] = v; }
}
