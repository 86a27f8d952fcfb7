// noaux_tc sigmoid router (spec §9.5, golden README "MoE"), one token per workgroup:
//   s = sigmoid(x·gateᵀ); choice = s + bias; with groups: group score = top-2 sum, keep TOPK_GROUP groups,
//   others masked with 0.0; ids = top-A of choice (ties → lower id, descending order);
//   weights = s[ids] / (Σ + 1e-20) when NORM (and A > 1), × SCALING.
// With X_NORM the router reads rmsNorm(x) (nw, EPS) without a norm dispatch: the norm's scale is one scalar
// per token, Σx² summed by the workgroup first and applied to each logit.
// Logits: EB experts at a time, the lanes striding over d (neighbouring lanes read neighbouring weights of
// each expert row, x read once per block), reduced by subgroupAdd plus one slot per subgroup (SUBGROUPS) or
// through workgroup memory. Top-A: A rounds of a workgroup argmax (subgroupMax / subgroupMin of the ids at
// the max, or a shared-memory tree); only the group masking (NGROUP > 1, not Kimi-VL's config) is serial.
// Dispatch: one workgroup per token (x + y·ROWS_X), E ≤ 256.
override WG: u32 = 64;

#if SUBGROUPS
enable subgroups;
#endif

const MAX_E: u32 = 256u;
const MAX_G: u32 = 64u;
const EB: u32 = 8u; // experts per block of the logit pass (two vec4 accumulators per lane)

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
var<workgroup> red: array<vec4<f32>, 2 * WG>; // a block's partial logits: [lane or subgroup][2]
var<workgroup> bestV: array<f32, WG>;         // argmax candidates: [lane or subgroup]
var<workgroup> bestI: array<u32, WG>;

const TAKEN: f32 = -3.0e38;
const NONE: u32 = 0xffffffffu;

/// The gate weight of expert e at column d; 0 past the last expert (the last block's padding).
fn gate_w(e: u32, d: u32) -> f32 {
  if (e >= u.E) { return 0.0; }
  return w_elem(e, d);
}

/// Whether candidate (v, i) beats (bv, bi): larger, or equal with the lower id.
fn beats(v: f32, i: u32, bv: f32, bi: u32) -> bool {
  return v > bv || (v == bv && i < bi);
}

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_index) tid: u32,
#if SUBGROUPS
  @builtin(subgroup_size) sg_size: u32,
  @builtin(subgroup_invocation_id) sg_lane: u32,
#endif
) {
  let t = wid.y * u.ROWS_X + wid.x;   // exact grid
  let row = t * u.K;
#if SUBGROUPS
  let slot = tid / sg_size;
  let nsub = max(1u, WG / sg_size);
#endif
  var scale = 1.0;
#if X_NORM
  var part = 0.0;
  for (var d = tid; d < u.K; d += WG) { part += x[row + d] * x[row + d]; }
  ssq[tid] = part;
  workgroupBarrier();
  var total = 0.0;
  for (var i = 0u; i < WG; i++) { total += ssq[i]; }
  scale = inverseSqrt(total / f32(u.K) + u.EPS);
#endif
  for (var e0 = 0u; e0 < u.E; e0 += EB) {
    var a0 = vec4<f32>(0.0);
    var a1 = vec4<f32>(0.0);
    for (var d = tid; d < u.K; d += WG) {
#if X_NORM
      let xv = x[row + d] * nw[d];
#else
      let xv = x[row + d];
#endif
      a0 += xv * vec4<f32>(gate_w(e0, d), gate_w(e0 + 1u, d), gate_w(e0 + 2u, d), gate_w(e0 + 3u, d));
      a1 += xv * vec4<f32>(gate_w(e0 + 4u, d), gate_w(e0 + 5u, d), gate_w(e0 + 6u, d), gate_w(e0 + 7u, d));
    }
#if SUBGROUPS
    let r0 = subgroupAdd(a0);
    let r1 = subgroupAdd(a1);
    if (sg_lane == 0u) { red[2u * slot] = r0; red[2u * slot + 1u] = r1; }
    let parts = nsub;
#else
    red[2u * tid] = a0;
    red[2u * tid + 1u] = a1;
    let parts = WG;
#endif
    workgroupBarrier();
    let e = e0 + tid;
    if (tid < EB && e < u.E) {
      var acc = 0.0;
      for (var p = 0u; p < parts; p++) { acc += red[2u * p + tid / 4u][tid % 4u]; }
      let sv = 1.0 / (1.0 + exp(-acc * scale));
      s[e] = sv;
      choice[e] = sv + bias[e];
    }
    workgroupBarrier();
  }
  if (u.NGROUP > 1u && tid == 0u) {
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
  workgroupBarrier();
  var sum = 0.0;
  for (var a = 0u; a < u.A; a++) {
    var bv = TAKEN;
    var bi = NONE;
    for (var e = tid; e < u.E; e += WG) {
      if (beats(choice[e], e, bv, bi)) { bv = choice[e]; bi = e; }
    }
#if SUBGROUPS
    let m = subgroupMax(bv);
    let mi = subgroupMin(select(NONE, bi, bv == m));
    if (sg_lane == 0u) { bestV[slot] = m; bestI[slot] = mi; }
    workgroupBarrier();
    var fv = bestV[0];
    var fi = bestI[0];
    for (var p = 1u; p < nsub; p++) {
      if (beats(bestV[p], bestI[p], fv, fi)) { fv = bestV[p]; fi = bestI[p]; }
    }
#else
    bestV[tid] = bv;
    bestI[tid] = bi;
    workgroupBarrier();
    for (var st = WG / 2u; st > 0u; st >>= 1u) {
      if (tid < st && beats(bestV[tid + st], bestI[tid + st], bestV[tid], bestI[tid])) {
        bestV[tid] = bestV[tid + st];
        bestI[tid] = bestI[tid + st];
      }
      workgroupBarrier();
    }
    let fi = bestI[0];
#endif
    if (tid == 0u) {
      choice[fi] = TAKEN;
      ids[t * u.A + a] = fi;
      wts[t * u.A + a] = s[fi];
      sum += s[fi];
    }
    workgroupBarrier();
  }
  if (tid != 0u) { return; }
  var norm = 1.0;
  if (u.NORM != 0u && u.A > 1u) { norm = 1.0 / (sum + 1e-20); }
  for (var a = 0u; a < u.A; a++) {
    wts[t * u.A + a] = wts[t * u.A + a] * norm * u.SCALING;
  }
}
