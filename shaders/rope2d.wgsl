// MoonViT 2D RoPE on the q and k thirds of a packed qkv [L, 3·H·d] (spec §7.3): the complex pair
// (x[2j], x[2j+1]) of every q/k head is multiplied by cis(angle[t, j]); v pairs are copied.
// cos/sin come from a host-built table (WGSL sin/cos of angles up to ~511 rad are too inaccurate).
// Dispatch: one thread per pair of the row, L·3·H·d/2 threads, 64 per workgroup, spread over (x, y).
@group(0) @binding(1) var<storage, read> qkv: array<vec2<f32>>;        // [L, 3·H·d/2] pairs
@group(0) @binding(2) var<storage, read> cs: array<vec2<f32>>;         // [L, d/2] (cos, sin)
@group(0) @binding(3) var<storage, read_write> out: array<vec2<f32>>;  // [L, 3·H·d/2] pairs

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let i = (wid.y * u.ROWS_X + wid.x) * 64u + lid.x;
  if (i >= u.TOTAL) {
    return;
  }
  let t = i / u.ROW_PAIRS;
  let p = i % u.ROW_PAIRS;
  let z = qkv[i];
  // Pairs [0, 2·H·d/2) of a row are q and k; the rest is v.
  if (p >= u.QK_PAIRS) {
    out[i] = z;
    return;
  }
  let f = cs[t * u.HALF + p % u.HALF];
  out[i] = vec2<f32>(z.x * f.x - z.y * f.y, z.x * f.y + z.y * f.x);
}
