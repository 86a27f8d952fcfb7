// noaux_tc sigmoid router (spec §9.5, golden README "MoE"), one token per workgroup:
//   s = sigmoid(x·gateᵀ); choice = s + bias; with groups: group score = top-2 sum, keep TOPK_GROUP groups,
//   others masked with 0.0; ids = top-A of choice (ties → lower id, descending order);
//   weights = s[ids] / (Σ + 1e-20) when NORM (and A > 1), × SCALING.
// With X_NORM the router reads rmsNorm(x) (nw, EPS) without a norm dispatch: the norm's scale is one scalar
// per token, Σx² summed by the workgroup first and applied to each logit.
// Dispatch: one workgroup per token (x + y·ROWS_X); threads compute the E logits, thread 0 selects (E ≤ 256).
override WG: u32 = 64;
const MAX_E: u32 = 256u;
const MAX_G: u32 = 64u;

@group(0) @binding(1) var<storage, read> x: array<f32>;              // [T, D]
@group(0) @binding(2) var<storage, read> w: array<u32>;              // gate [E, D] (W_* form)
@group(0) @binding(3) var<storage, read> bias: array<f32>;           // [E]
@group(0) @binding(4) var<storage, read_write> ids: array<u32>;      // [T, A]
@group(0) @binding(5) var<storage, read_write> wts: array<f32>;      // [T, A]
#if X_NORM
@group(0) @binding(6) var<storage, read> nw: array<f32>;             // [D] the FFN norm's weight
#endif

#include "common/weights.wgsl"

var<workgroup> s: array<f32, MAX_E>;
var<workgroup> choice: array<f32, MAX_E>;
var<workgroup> ssq: array<f32, WG>;

const TAKEN: f32 = -3.0e38;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let t = wid.y * u.ROWS_X + wid.x;   // exact grid
  var scale = 1.0;
#if X_NORM
  var part = 0.0;
  for (var d = tid; d < u.K; d += WG) { part += x[t * u.K + d] * x[t * u.K + d]; }
  ssq[tid] = part;
  workgroupBarrier();
  var total = 0.0;
  for (var i = 0u; i < WG; i++) { total += ssq[i]; }
  scale = inverseSqrt(total / f32(u.K) + u.EPS);
#endif
  for (var e = tid; e < u.E; e += WG) {
    var acc = 0.0;
#if X_NORM
    for (var d = 0u; d < u.K; d++) { acc += x[t * u.K + d] * nw[d] * w_elem(e, d); }
#else
    for (var d = 0u; d < u.K; d++) { acc += x[t * u.K + d] * w_elem(e, d); }
#endif
    let sv = 1.0 / (1.0 + exp(-acc * scale));
    s[e] = sv;
    choice[e] = sv + bias[e];
  }
  workgroupBarrier();
  if (tid != 0u) { return; }
  if (u.NGROUP > 1u) {
    let per = u.E / u.NGROUP;
    var gscore: array<f32, MAX_G>;
    for (var g = 0u; g < u.NGROUP; g++) {
      var b1 = TAKEN;
      var b2 = TAKEN;
      for (var e = g * per; e < (g + 1u) * per; e++) {
        let c = choice[e];
        if (c > b1) { b2 = b1; b1 = c; } else if (c > b2) { b2 = c; }
      }
      gscore[g] = b1 + b2;
    }
    var keep: array<bool, MAX_G>;
    for (var k = 0u; k < u.TOPK_GROUP; k++) {
      var best = 0u;
      var bv = TAKEN;
      for (var g = 0u; g < u.NGROUP; g++) {
        if (!keep[g] && (gscore[g] > bv || bv == TAKEN)) { best = g; bv = gscore[g]; }
      }
      keep[best] = true;
    }
    for (var e = 0u; e < u.E; e++) {
      if (!keep[e / per]) { choice[e] = 0.0; }
    }
  }
  var sum = 0.0;
  for (var a = 0u; a < u.A; a++) {
    var best = 0u;
    var bv = TAKEN;
    for (var e = 0u; e < u.E; e++) {
      if (choice[e] > bv) { best = e; bv = choice[e]; }
    }
    choice[best] = TAKEN;
    ids[t * u.A + a] = best;
    wts[t * u.A + a] = s[best];
    sum += s[best];
  }
  var norm = 1.0;
  if (u.NORM != 0u && u.A > 1u) { norm = 1.0 / (sum + 1e-20); }
  for (var a = 0u; a < u.A; a++) {
    wts[t * u.A + a] = wts[t * u.A + a] * norm * u.SCALING;
  }
}
