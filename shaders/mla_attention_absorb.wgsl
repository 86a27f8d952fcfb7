// MLA step 1 (spec §9.4): per token t and head h, qcat[t,h] = [W_UK[h]ᵀ q_nope[t,h] (R) | q_pe[t,h] (P)],
// W_UK[h] = rows h·(N+V) .. +N of kv_b [H·(N+V), R] in any weight form. With ROPE_Q, q_pe arrives un-roped
// and is roped here as rope.wgsl does (interleaved pairs, the same cos/sin table row pos0 + t), which
// spares decode its rope dispatch.
// Dispatch (elem): one thread per output value of [T, H, R+P]; adjacent threads read adjacent kv_b columns.
// VEC (bf16/f16 kv_b, R % 8 = 0): one workgroup per (t, h), each lane 8 columns from whole vec4<u32> words
// (8× fewer loads, no per-element select: the CPU adapters' bottleneck), q_nope[n] workgroup-uniform.
override WG: u32 = 256;

@group(0) @binding(1) var<storage, read> q: array<f32>;             // [T, H·(N+P)]
#if VEC
@group(0) @binding(2) var<storage, read> w: array<vec4<u32>>;       // kv_b [H·(N+V), R] (bf16 / f16)
#else
@group(0) @binding(2) var<storage, read> w: array<u32>;             // kv_b [H·(N+V), R] (W_* form)
#endif
@group(0) @binding(3) var<storage, read_write> qcat: array<f32>;    // [T, H, R+P]
#if ROPE_Q
@group(0) @binding(4) var<storage, read> cs: array<f32>;            // [positions, P/2, 2] (cos, sin)
#endif

#if VEC
#include "common/weights_vec8.wgsl"
#else
#include "common/weights.wgsl"
#endif

/// q_pe[t, h, p] (roped with ROPE_Q), qo = the row of (t, h) in q.
fn q_pe(qo: u32, t: u32, p: u32) -> f32 {
  let x = q[qo + u.N + p];
#if ROPE_Q
  let at = ((u.pos0 + t) * (u.P / 2u) + p / 2u) * 2u;
  let cosv = cs[at];
  let sinv = cs[at + 1u];
  if ((p & 1u) == 0u) {
    return x * cosv - q[qo + u.N + p + 1u] * sinv;   // even slot: a·cos − b·sin
  }
  return x * cosv + q[qo + u.N + p - 1u] * sinv;     // odd slot: b·cos + a·sin
#else
  return x;
#endif
}

#if VEC
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let th = wid.y * u.ROWS_X + wid.x;   // t·H + h
  if (th >= u.T * u.H) { return; }
  let h = th % u.H;
  let qo = th * (u.N + u.P);
  let e0 = th * (u.K + u.P);
  for (var p = tid; p < u.P; p += WG) { qcat[e0 + u.K + p] = q_pe(qo, th / u.H, p); }
  let K8 = u.K / 8u;
  let row0 = h * (u.N + u.V);
  for (var c = tid; c < K8; c += WG) {
    var a0 = vec4<f32>(0.0);
    var a1 = vec4<f32>(0.0);
    for (var n = 0u; n < u.N; n++) {
      let x = q[qo + n];
      let wv = w[(row0 + n) * K8 + c];
      a0 += x * w_lo4(wv);
      a1 += x * w_hi4(wv);
    }
    let o = e0 + c * 8u;
    qcat[o] = a0.x;
    qcat[o + 1u] = a0.y;
    qcat[o + 2u] = a0.z;
    qcat[o + 3u] = a0.w;
    qcat[o + 4u] = a1.x;
    qcat[o + 5u] = a1.y;
    qcat[o + 6u] = a1.z;
    qcat[o + 7u] = a1.w;
  }
}
#else
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
    qcat[e] = q_pe(qo, th / u.H, r - u.K);
    return;
  }
  var acc = 0.0;
  let row0 = h * (u.N + u.V);
  for (var n = 0u; n < u.N; n++) {
    acc += q[qo + n] * w_elem(row0 + n, r);
  }
  qcat[e] = acc;
}
#endif
