// MLA step 1 (spec §9.4): per token t and head h, qcat[t,h] = [W_UK[h]ᵀ q_nope[t,h] (R) | q_pe[t,h] (P)],
// W_UK[h] = rows h·(N+V) .. +N of kv_b [H·(N+V), R] in any weight form. With ROPE_Q, q_pe arrives un-roped
// and is roped here as rope.wgsl does (interleaved pairs, the same cos/sin table row pos0 + t), which
// spares decode its rope dispatch.
// Dispatch: one thread per output value of [T, H, R+P]; adjacent threads read adjacent kv_b columns.
override WG: u32 = 256;

@group(0) @binding(1) var<storage, read> q: array<f32>;             // [T, H·(N+P)]
@group(0) @binding(2) var<storage, read> w: array<u32>;             // kv_b [H·(N+V), R] (W_* form)
@group(0) @binding(3) var<storage, read_write> qcat: array<f32>;    // [T, H, R+P]
#if ROPE_Q
@group(0) @binding(4) var<storage, read> cs: array<f32>;            // [positions, P/2, 2] (cos, sin)
#endif

#include "common/weights.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let e = (wid.y * u.ROWS_X + wid.x) * WG + tid;
  let W = u.K + u.P;          // K = R, the kv_b row length
  if (e >= u.T * u.H * W) { return; }
  let r = e % W;
  let th = e / W;              // t·H + h
  let h = th % u.H;
  let qo = th * (u.N + u.P);   // row t, head h of q (heads contiguous within a row)
  if (r >= u.K) {
    let p = r - u.K;
    let x = q[qo + u.N + p];
#if ROPE_Q
    let at = ((u.pos0 + th / u.H) * (u.P / 2u) + p / 2u) * 2u;
    let cosv = cs[at];
    let sinv = cs[at + 1u];
    if ((p & 1u) == 0u) {
      qcat[e] = x * cosv - q[qo + u.N + p + 1u] * sinv;   // even slot: a·cos − b·sin
    } else {
      qcat[e] = x * cosv + q[qo + u.N + p - 1u] * sinv;   // odd slot: b·cos + a·sin
    }
#else
    qcat[e] = x;
#endif
    return;
  }
  var acc = 0.0;
  let row0 = h * (u.N + u.V);
  for (var n = 0u; n < u.N; n++) {
    acc += q[qo + n] * w_elem(row0 + n, r);
  }
  qcat[e] = acc;
}
