// The bandwidth reference: dst = src, one vec4<u32> (16 bytes) per lane, fully coalesced, no ALU.
// Dispatch: ceil(n / WG) workgroups over (x, y) with ROWS_X workgroups per row of the grid.
override WG: u32 = 256;

@group(0) @binding(1) var<storage, read> src: array<vec4<u32>>;        // [n]
@group(0) @binding(2) var<storage, read_write> dst: array<vec4<u32>>;  // [n]

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let i = (wid.y * u.ROWS_X + wid.x) * WG + tid;
  if (i >= u.n) { return; }
  dst[i] = src[i];
}
