// Interleaved RoPE (DeepSeek-V3, spec §9.3) on a copy of x [T, C]: for heads h < HEADS, the pair
// (x[o+2i], x[o+2i+1]) with o = h·STRIDE + OFFSET rotates by the angle of (pos0 + t, i); other columns copy.
// cos/sin come from a host-built table (f64-accurate, YaRN-scaled when configured): the table row is the
// absolute position, so any pos0 reads it directly.
// Dispatch: one thread per output element, workgroups laid out 2-D (x + y·ROWS_X) under the per-dim limit.
override WG: u32 = 256;

@group(0) @binding(1) var<storage, read> x: array<f32>;            // [T, C]
@group(0) @binding(2) var<storage, read> cs: array<f32>;           // [positions, ROPE/2, 2] (cos, sin)
@group(0) @binding(3) var<storage, read_write> y: array<f32>;      // [T, C]

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let e = (wid.y * u.ROWS_X + wid.x) * WG + tid;
  if (e >= u.n) { return; }
  let t = e / u.C;
  let c = e % u.C;
  let h = c / u.STRIDE;
  let inner = i32(c % u.STRIDE) - i32(u.OFFSET);
  if (h >= u.HEADS || inner < 0 || u32(inner) >= u.ROPE) {
    y[e] = x[e];
    return;
  }
  let i = u32(inner) / 2u;
  let at = ((u.pos0 + t) * (u.ROPE / 2u) + i) * 2u;
  let cosv = cs[at];
  let sinv = cs[at + 1u];
  if ((u32(inner) & 1u) == 0u) {
    y[e] = x[e] * cosv - x[e + 1u] * sinv;   // even slot: a·cos − b·sin
  } else {
    y[e] = x[e] * cosv + x[e - 1u] * sinv;   // odd slot: b·cos + a·sin
  }
}
