// MLA decode, second pass: merges the SPLITS partials of mla_decode.wgsl (the flash-decoding reduction) and
// applies the value up-projection in the same workgroup, so the merged latent never leaves it:
//   M = max_s m_s;  o_lat = Σ_s e^(m_s − M) o_s / Σ_s e^(m_s − M) l_s       (an empty split has l_s = 0)
//   o[h, i] = W_UV[h][i] · o_lat,   W_UV[h] = rows h·(N+V)+N .. +V of kv_b [H·(N+V), R] (any weight form)
// Dispatch: one workgroup per head (the partials of a head are read once). Lanes first merge the R latent
// columns (r ≡ tid mod WG, coalesced over the splits), then 32 lanes per value row walk its R columns
// (adjacent lanes, adjacent weights) and sum through workgroup memory.
// ROW_LANES (CPU adapters; bf16/f16 kv_b, R % 8 = 0): one lane per value row, reading whole vec4<u32>
// words (8 weights) of its row, so no reduction and one barrier; strided across lanes, which a CPU
// does not mind (each lane streams its own row).
override WG: u32 = 256;
const MAX_R: u32 = 512u;   // R ≤ MAX_R, checked by the wrapper
const LPR: u32 = 32u;      // lanes per value row

@group(0) @binding(1) var<storage, read> part: array<f32>;          // [SPLITS, H, R]
@group(0) @binding(2) var<storage, read> ml: array<f32>;            // [SPLITS, H, 2]
#if ROW_LANES
@group(0) @binding(3) var<storage, read> w: array<vec4<u32>>;       // kv_b [H·(N+V), R] (bf16 / f16)
#else
@group(0) @binding(3) var<storage, read> w: array<u32>;             // kv_b [H·(N+V), R] (W_* form)
#endif
@group(0) @binding(4) var<storage, read_write> o: array<f32>;       // [1, H·V]

#if ROW_LANES
#include "common/weights_vec8.wgsl"
#else
#include "common/weights.wgsl"
#endif

var<workgroup> olat: array<f32, MAX_R>;
var<workgroup> red: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let h = wid.x;
  let R = u.K;
  var mx = -3.0e38;
  for (var s = 0u; s < u.SPLITS; s++) { mx = max(mx, ml[(s * u.H + h) * 2u]); }
  var den = 0.0;
  for (var s = 0u; s < u.SPLITS; s++) {
    let at = (s * u.H + h) * 2u;
    den += exp(ml[at] - mx) * ml[at + 1u];
  }
  for (var r = tid; r < R; r += WG) {
    var num = 0.0;
    for (var s = 0u; s < u.SPLITS; s++) {
      let at = s * u.H + h;
      num += exp(ml[at * 2u] - mx) * part[at * R + r];
    }
    olat[r] = num / den;
  }
  workgroupBarrier();

#if ROW_LANES
  let K8 = R / 8u;
  for (var i = tid; i < u.V; i += WG) {
    let row = h * (u.N + u.V) + u.N + i;
    var a0 = vec4<f32>(0.0);
    var a1 = vec4<f32>(0.0);
    for (var c = 0u; c < K8; c++) {
      let wv = w[row * K8 + c];
      let r = c * 8u;
      a0 += w_lo4(wv) * vec4<f32>(olat[r], olat[r + 1u], olat[r + 2u], olat[r + 3u]);
      a1 += w_hi4(wv) * vec4<f32>(olat[r + 4u], olat[r + 5u], olat[r + 6u], olat[r + 7u]);
    }
    o[h * u.V + i] = (a0.x + a0.y) + (a0.z + a0.w) + ((a1.x + a1.y) + (a1.z + a1.w));
  }
#else
  let lane = tid % LPR;
  for (var i0 = 0u; i0 < u.V; i0 += WG / LPR) {
    let i = i0 + tid / LPR;
    var acc = 0.0;
    if (i < u.V) {
      let row = h * (u.N + u.V) + u.N + i;
      for (var r = lane; r < R; r += LPR) { acc += w_elem(row, r) * olat[r]; }
    }
    red[tid] = acc;
    workgroupBarrier();
    for (var st = LPR / 2u; st > 0u; st >>= 1u) {
      if (lane < st) { red[tid] += red[tid + st]; }
      workgroupBarrier();
    }
    if (lane == 0u && i < u.V) { o[h * u.V + i] = red[tid]; }
    workgroupBarrier();
  }
#endif
}
