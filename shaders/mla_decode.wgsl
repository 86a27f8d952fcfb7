// MLA decode (T = 1, spec §9.4), weight-absorbed over the latent cache, ALL heads per workgroup (FlashMLA's
// layout): each cache row is read from memory once per token, whatever the head count.
//   s[h,j] = SCALE · qcat[h]·cache[j]   (qcat = [W_UKᵀ q_nope | q_pe], width W = R + P)
//   partial o[h] = Σ_j e^(s[h,j] − m[h]) c[j] (first R columns), with m[h] the running max, l[h] = Σ_j e^(…)
// Dispatch (GRID_SPLITS, head groups): workgroup x walks keys KEY0 + x·CHUNK .. (clamped to KEY_END, the
// end of this part's visible keys) of one cache part, for heads y·HB .. y·HB + HB; HB = WG / LPH (16 for
// the real model, so one head group). It writes the unnormalised partial (o, m, l) of global split
// SPLIT0 + x; mla_decode_out.wgsl merges the splits and applies W_UV.
// Per tile of TK keys: the rows are loaded coalesced (consecutive lanes, consecutive words) into workgroup
// memory as f32, from an f32 cache, an f16 cache packed two per u32, or a native f16 cache. Lanes: LPH = 16
// per head; lane `l` owns columns l, l+16, l+32, … of its head's q and o, so a staged row is read
// bank-conflict free and broadcast across heads. A score is the sum of the 16 lanes' partial dots:
// subgroupShuffleXor over 1, 2 (and 4, 8 where the subgroup is that wide), the rest through workgroup
// memory (all of it without subgroups). Every lane of a head then reads its head's full scores from there
// and runs the online softmax itself, one key at a time (max over the tile, then p · v per key).
// Register layout: the lane's q columns are 9 named vec4s q0 … q8 and its o columns 8 named vec4s o0 … o7
// (component c of q{g} / o{g} is column l + 64g + 16c), never private arrays indexed by loop counters: a
// compiler that does not fully unroll (SwiftShader) keeps those in memory, one scattered access per lane.
// Columns past W hold q = 0 and read a clamped in-row tile slot, so the inner loops have no per-lane
// branches; groups wholly past W (or R, for o) are skipped by uniform branches on the dims.
#if SUBGROUPS
enable subgroups;
#endif
#if CACHE_F16_NATIVE
enable f16;
#endif

override WG: u32;          // HB · LPH
override TK: u32;          // keys per staged tile, ≤ TK_MAX
override TILE_WORDS: u32;  // TK · W
override RED_WORDS: u32;   // WG · TK
const LPH: u32 = 16u;      // lanes per head; q0 … q8 hold W ≤ 576 columns, o0 … o7 hold R ≤ 512

#include "common/mla_decode_io.wgsl"

var<workgroup> tile: array<f32, TILE_WORDS>;  // [TK, W] the staged keys
var<workgroup> red: array<f32, RED_WORDS>;    // [WG, TK] partial dots for the cross-lane sum


var<private> col0: u32;  // the lane's first column (its index among its head's lanes)
var<private> last: u32;  // W − 1: the clamp for columns past the row
var<private> q0: vec4<f32>;  // the lane's q columns, pre-scaled by SCALE (0 past W)
var<private> q1: vec4<f32>;
var<private> q2: vec4<f32>;
var<private> q3: vec4<f32>;
var<private> q4: vec4<f32>;
var<private> q5: vec4<f32>;
var<private> q6: vec4<f32>;
var<private> q7: vec4<f32>;
var<private> q8: vec4<f32>;
var<private> o0: vec4<f32>;  // the lane's unnormalised o columns (past R: never stored)
var<private> o1: vec4<f32>;
var<private> o2: vec4<f32>;
var<private> o3: vec4<f32>;
var<private> o4: vec4<f32>;
var<private> o5: vec4<f32>;
var<private> o6: vec4<f32>;
var<private> o7: vec4<f32>;

/// The lane's column group g (columns col0 + 64g + 16c) of the staged row starting at `at`.
fn tileGroup(at: u32, g: u32) -> vec4<f32> {
  let c = col0 + 64u * g;
  return vec4<f32>(tile[at + min(c, last)], tile[at + min(c + 16u, last)], tile[at + min(c + 32u, last)],
                   tile[at + min(c + 48u, last)]);
}

/// The lane's column group g of its head's q row starting at `at`, scaled; 0 past W.
fn queryGroup(at: u32, g: u32) -> vec4<f32> {
  let c = vec4<u32>(col0 + 64u * g) + vec4<u32>(0u, 16u, 32u, 48u);
  let x = vec4<f32>(qcat[at + min(c.x, last)], qcat[at + min(c.y, last)], qcat[at + min(c.z, last)],
                    qcat[at + min(c.w, last)]);
  return select(vec4<f32>(0.0), x * u.SCALE, c <= vec4<u32>(last));
}

/// The lane's partial dot of q with the staged key row starting at `at`.
fn keyDot(at: u32) -> f32 {
  let W = u.R + u.P;
  var s = dot(q0, tileGroup(at, 0u));
  if (W > 64u) { s += dot(q1, tileGroup(at, 1u)); }
  if (W > 128u) { s += dot(q2, tileGroup(at, 2u)); }
  if (W > 192u) { s += dot(q3, tileGroup(at, 3u)); }
  if (W > 256u) { s += dot(q4, tileGroup(at, 4u)); }
  if (W > 320u) { s += dot(q5, tileGroup(at, 5u)); }
  if (W > 384u) { s += dot(q6, tileGroup(at, 6u)); }
  if (W > 448u) { s += dot(q7, tileGroup(at, 7u)); }
  if (W > 512u) { s += dot(q8, tileGroup(at, 8u)); }
  return s;
}

/// o += p · (the first R columns of the staged row starting at `at`).
fn accumulateRow(at: u32, p: f32) {
  let pv = vec4<f32>(p);
  o0 = fma(pv, tileGroup(at, 0u), o0);
  if (u.R > 64u) { o1 = fma(pv, tileGroup(at, 1u), o1); }
  if (u.R > 128u) { o2 = fma(pv, tileGroup(at, 2u), o2); }
  if (u.R > 192u) { o3 = fma(pv, tileGroup(at, 3u), o3); }
  if (u.R > 256u) { o4 = fma(pv, tileGroup(at, 4u), o4); }
  if (u.R > 320u) { o5 = fma(pv, tileGroup(at, 5u), o5); }
  if (u.R > 384u) { o6 = fma(pv, tileGroup(at, 6u), o6); }
  if (u.R > 448u) { o7 = fma(pv, tileGroup(at, 7u), o7); }
}

fn rescaleOutputs(corr: f32) {
  let c = vec4<f32>(corr);
  o0 *= c; o1 *= c; o2 *= c; o3 *= c; o4 *= c; o5 *= c; o6 *= c; o7 *= c;
}

/// The lane's column group g of o into the part row starting at `at` (columns < R only).
fn storeGroup(at: u32, g: u32, x: vec4<f32>) {
  let c = col0 + 64u * g;
  if (c < u.R) { part[at + c] = x.x; }
  if (c + 16u < u.R) { part[at + c + 16u] = x.y; }
  if (c + 32u < u.R) { part[at + c + 32u] = x.z; }
  if (c + 48u < u.R) { part[at + c + 48u] = x.w; }
}

/// The head's full score of tile key j: the sums its lanes left in `red` (one per G lanes).
fn headScore(hl: u32, j: u32, G: u32) -> f32 {
  var sum = 0.0;
  for (var g = 0u; g < LPH; g += G) { sum += red[(hl * LPH + g) * TK + j]; }
  return sum;
}

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_index) tid: u32,
#if SUBGROUPS
  @builtin(subgroup_size) sg: u32,
#endif
) {
  let W = u.R + u.P;
  let hl = tid / LPH;
  col0 = tid % LPH;
  last = W - 1u;
  let h = wid.y * (WG / LPH) + hl;
  let live = h < u.H;        // lanes of a missing head still load and reach every barrier
  let qAt = min(h, u.H - 1u) * W;
  q0 = queryGroup(qAt, 0u);
  q1 = queryGroup(qAt, 1u);
  q2 = queryGroup(qAt, 2u);
  q3 = queryGroup(qAt, 3u);
  q4 = queryGroup(qAt, 4u);
  q5 = queryGroup(qAt, 5u);
  q6 = queryGroup(qAt, 6u);
  q7 = queryGroup(qAt, 7u);
  q8 = queryGroup(qAt, 8u);
  var m = -3.0e38;
  var l = 0.0;

  let k0 = u.KEY0 + wid.x * u.CHUNK;
  let k1 = min(k0 + u.CHUNK, u.KEY_END);  // uniform: the loop and its barriers are too
#if SUBGROUPS
  let G = min(sg, LPH);      // lanes summed by shuffles; the rest goes through `red`
#else
  let G = 1u;
#endif
  for (var j0 = k0; j0 < k1; j0 += TK) {
    let nk = min(TK, k1 - j0);
    workgroupBarrier();      // the previous tile's readers are done with `tile` and `red`
    let base = (j0 - u.KEY0) * W / 2u;  // word pair index of the tile's first value (W is even)
    for (var e = tid; e < TK * W / 2u; e += WG) {
      var v = vec2<f32>(0.0);
      if (e < nk * W / 2u) { v = cache_pair(base + e); }
      tile[2u * e] = v.x;
      tile[2u * e + 1u] = v.y;
    }
    workgroupBarrier();

    for (var j = 0u; j < TK; j++) {
      var acc = keyDot(j * W);
#if SUBGROUPS
      acc += subgroupShuffleXor(acc, 1u);
      acc += subgroupShuffleXor(acc, 2u);
      let a4 = subgroupShuffleXor(acc, 4u);  // indeterminate past a 4-lane subgroup: discarded then
      acc += select(0.0, a4, sg >= 8u);
      let a8 = subgroupShuffleXor(acc, 8u);
      acc += select(0.0, a8, sg >= 16u);
#endif
      red[tid * TK + j] = acc;
    }
    workgroupBarrier();
    // Online softmax over the tile: its max first, then p · v one key at a time (scores re-read from
    // `red`, not kept in a per-key array).
    var mt = m;
    for (var j = 0u; j < nk; j++) { mt = max(mt, headScore(hl, j, G)); }
    let corr = exp(m - mt);
    rescaleOutputs(corr);
    var ps = 0.0;
    for (var j = 0u; j < nk; j++) {
      let p = exp(headScore(hl, j, G) - mt);
      ps += p;
      accumulateRow(j * W, p);
    }
    l = l * corr + ps;
    m = mt;
  }

  if (!live) { return; }
  let row = (u.SPLIT0 + wid.x) * u.H + h;
  let at = row * u.R;
  storeGroup(at, 0u, o0);
  storeGroup(at, 1u, o1);
  storeGroup(at, 2u, o2);
  storeGroup(at, 3u, o3);
  storeGroup(at, 4u, o4);
  storeGroup(at, 5u, o5);
  storeGroup(at, 6u, o6);
  storeGroup(at, 7u, o7);
  if (col0 == 0u) {
    ml[row * 2u] = m;
    ml[row * 2u + 1u] = l;
  }
}
