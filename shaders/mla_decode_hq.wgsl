// MLA decode, all heads per workgroup, 4 HEADS PER LANE (the CPU-adapter form of mla_decode.wgsl; same
// dispatch, uniforms, bindings and partial outputs (o, m, l) per split, merged by mla_decode_out.wgsl).
// Why: on a CPU implementation (SwiftShader) what counts is instructions per cache byte and barriers. Here
// a lane reads its cache columns straight from the storage buffer (no staged tile: no copy, no tile
// barriers, the rows stay in the CPU's L1/L2 between the score and value passes) and every decoded value
// serves 4 heads: the lane's q and o columns are mat4x4s whose column c holds 4 heads' values of one
// cache column, so a score step is Q·v (16 FMAs per 4 loaded values) and a value step O[c] += p·v[c].
// Lanes: 16 per head quad (LPQ); lane `cl` owns column pairs cl + 32g and cl + 32g + 16 of group g
// (columns 64g .. 64g + 63 over the quad's 16 lanes), i.e. whole u32 words of an f16 cache. q0 … q8
// cover W ≤ 576, o0 … o7 cover R ≤ 512 (named registers, never arrays indexed by loop counters).
// Per tile of TK ≤ 16 keys: the partial scores (a vec4: the quad's 4 heads) summed over the subgroup by
// shuffles and left in `red`; then the softmax is shared out, not repeated by the quad's 16 lanes: lane
// cl sums key cl's partials once (`sc`), every lane takes the tile max from `sc`, lane cl alone takes key
// cl's exponential (`pr`), and the value pass reads p from `pr`. Three barriers per tile.
#if SUBGROUPS
enable subgroups;
#endif
#if CACHE_F16_NATIVE
enable f16;
#endif

override WG: u32;          // head quads · LPQ
override TK: u32;          // keys per tile
override RED_WORDS: u32;   // WG · TK (vec4s)
override QUAD_WORDS: u32;  // WG / LPQ · TK (vec4s)
const LPQ: u32 = 16u;      // lanes per head quad

#include "common/mla_decode_io.wgsl"

var<workgroup> red: array<vec4<f32>, RED_WORDS>;  // [WG, TK] partial scores of the quad's 4 heads
var<workgroup> sc: array<vec4<f32>, QUAD_WORDS>;  // [quads, TK] full scores
var<workgroup> pr: array<vec4<f32>, QUAD_WORDS>;  // [quads, TK] e^(score − tile max)

var<private> cl: u32;        // the lane's index in its quad
var<private> lastPair: u32;  // W/2 − 1: the clamp for pairs past the row
var<private> hq0: u32;       // the quad's first head
var<private> q0: mat4x4<f32>;  // column c: the quad's 4 heads' q at the group's column c, scaled (0 past W / H)
var<private> q1: mat4x4<f32>;
var<private> q2: mat4x4<f32>;
var<private> q3: mat4x4<f32>;
var<private> q4: mat4x4<f32>;
var<private> q5: mat4x4<f32>;
var<private> q6: mat4x4<f32>;
var<private> q7: mat4x4<f32>;
var<private> q8: mat4x4<f32>;
var<private> o0: mat4x4<f32>;  // column c: the quad's 4 heads' unnormalised o at the group's column c
var<private> o1: mat4x4<f32>;
var<private> o2: mat4x4<f32>;
var<private> o3: mat4x4<f32>;
var<private> o4: mat4x4<f32>;
var<private> o5: mat4x4<f32>;
var<private> o6: mat4x4<f32>;
var<private> o7: mat4x4<f32>;

/// Column `c` of group g: columns 2p, 2p + 1 of pairs p = cl + 32g and cl + 32g + 16.
fn groupCol(g: u32, c: u32) -> u32 {
  return 2u * (cl + 32u * g + 16u * (c / 2u)) + c % 2u;
}

/// The quad's 4 heads' q at column `col`, scaled; 0 past W or H.
fn queryCol(col: u32) -> vec4<f32> {
  let W = u.R + u.P;
  let h = vec4<u32>(hq0) + vec4<u32>(0u, 1u, 2u, 3u);
  let hc = min(h, vec4<u32>(u.H - 1u)) * W + min(col, W - 1u);
  let x = vec4<f32>(qcat[hc.x], qcat[hc.y], qcat[hc.z], qcat[hc.w]);
  return select(vec4<f32>(0.0), x * u.SCALE, (h < vec4<u32>(u.H)) & vec4<bool>(col < W));
}

fn queryGroup(g: u32) -> mat4x4<f32> {
  return mat4x4<f32>(queryCol(groupCol(g, 0u)), queryCol(groupCol(g, 1u)), queryCol(groupCol(g, 2u)),
                     queryCol(groupCol(g, 3u)));
}

/// The lane's 4 cache values of group g in the row whose first pair is `rp` (pairs clamped into the row).
fn cacheGroup(rp: u32, g: u32) -> vec4<f32> {
  let p = cl + 32u * g;
  return vec4<f32>(cache_pair(rp + min(p, lastPair)), cache_pair(rp + min(p + 16u, lastPair)));
}

/// The lane's partial scores of the quad's 4 heads for the row at `rp`.
fn keyScores(rp: u32) -> vec4<f32> {
  let W = u.R + u.P;
  var s = q0 * cacheGroup(rp, 0u);
  if (W > 64u) { s += q1 * cacheGroup(rp, 1u); }
  if (W > 128u) { s += q2 * cacheGroup(rp, 2u); }
  if (W > 192u) { s += q3 * cacheGroup(rp, 3u); }
  if (W > 256u) { s += q4 * cacheGroup(rp, 4u); }
  if (W > 320u) { s += q5 * cacheGroup(rp, 5u); }
  if (W > 384u) { s += q6 * cacheGroup(rp, 6u); }
  if (W > 448u) { s += q7 * cacheGroup(rp, 7u); }
  if (W > 512u) { s += q8 * cacheGroup(rp, 8u); }
  return s;
}

/// o[c] += p · v[c]: the 4 heads' probabilities times the lane's 4 values of one group.
fn addRow(o: mat4x4<f32>, p: vec4<f32>, v: vec4<f32>) -> mat4x4<f32> {
  return mat4x4<f32>(fma(p, vec4<f32>(v.x), o[0]), fma(p, vec4<f32>(v.y), o[1]), fma(p, vec4<f32>(v.z), o[2]),
                     fma(p, vec4<f32>(v.w), o[3]));
}

fn accumulateRow(rp: u32, p: vec4<f32>) {
  o0 = addRow(o0, p, cacheGroup(rp, 0u));
  if (u.R > 64u) { o1 = addRow(o1, p, cacheGroup(rp, 1u)); }
  if (u.R > 128u) { o2 = addRow(o2, p, cacheGroup(rp, 2u)); }
  if (u.R > 192u) { o3 = addRow(o3, p, cacheGroup(rp, 3u)); }
  if (u.R > 256u) { o4 = addRow(o4, p, cacheGroup(rp, 4u)); }
  if (u.R > 320u) { o5 = addRow(o5, p, cacheGroup(rp, 5u)); }
  if (u.R > 384u) { o6 = addRow(o6, p, cacheGroup(rp, 6u)); }
  if (u.R > 448u) { o7 = addRow(o7, p, cacheGroup(rp, 7u)); }
}

fn scaled(o: mat4x4<f32>, c: vec4<f32>) -> mat4x4<f32> {
  return mat4x4<f32>(o[0] * c, o[1] * c, o[2] * c, o[3] * c);
}

fn rescaleOutputs(c: vec4<f32>) {
  o0 = scaled(o0, c); o1 = scaled(o1, c); o2 = scaled(o2, c); o3 = scaled(o3, c);
  o4 = scaled(o4, c); o5 = scaled(o5, c); o6 = scaled(o6, c); o7 = scaled(o7, c);
}

/// Group g of o into the part rows of split `s` (columns < R, heads < H only).
fn storeGroup(s: u32, g: u32, o: mat4x4<f32>) {
  for (var c = 0u; c < 4u; c++) {
    let col = groupCol(g, c);
    if (col >= u.R) { continue; }
    let x = o[c];
    for (var a = 0u; a < 4u; a++) {
      if (hq0 + a < u.H) { part[(s * u.H + hq0 + a) * u.R + col] = x[a]; }
    }
  }
}

/// The quad's full scores of tile key j: the sums its lanes left in `red` (one per G lanes).
fn quadScore(quad: u32, j: u32, G: u32) -> vec4<f32> {
  var sum = vec4<f32>(0.0);
  for (var g = 0u; g < LPQ; g += G) { sum += red[(quad * LPQ + g) * TK + j]; }
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
  let quad = tid / LPQ;
  cl = tid % LPQ;
  lastPair = W / 2u - 1u;
  hq0 = wid.y * (WG / LPQ) * 4u + quad * 4u;
  q0 = queryGroup(0u);
  q1 = queryGroup(1u);
  q2 = queryGroup(2u);
  q3 = queryGroup(3u);
  q4 = queryGroup(4u);
  q5 = queryGroup(5u);
  q6 = queryGroup(6u);
  q7 = queryGroup(7u);
  q8 = queryGroup(8u);
  var m = vec4<f32>(-3.0e38);
  var l = vec4<f32>(0.0);

  let k0 = u.KEY0 + wid.x * u.CHUNK;
  let k1 = min(k0 + u.CHUNK, u.KEY_END);  // uniform: the loop and its barriers are too
#if SUBGROUPS
  let G = min(sg, LPQ);      // lanes summed by shuffles; the rest goes through `red`
#else
  let G = 1u;
#endif
  for (var j0 = k0; j0 < k1; j0 += TK) {
    let nk = min(TK, k1 - j0);
    let rp0 = (j0 - u.KEY0) * (W / 2u);  // first pair of the tile's first row (W is even)
    // no barrier here: the previous tile read `red` and `sc` before its last barrier, and `pr` is
    // written only after this tile's first one
    for (var j = 0u; j < nk; j++) {
      var s = keyScores(rp0 + j * (W / 2u));
#if SUBGROUPS
      s += subgroupShuffleXor(s, 1u);
      s += subgroupShuffleXor(s, 2u);
      let s4 = subgroupShuffleXor(s, 4u);  // indeterminate past a 4-lane subgroup: discarded then
      s += select(vec4<f32>(0.0), s4, sg >= 8u);
      let s8 = subgroupShuffleXor(s, 8u);
      s += select(vec4<f32>(0.0), s8, sg >= 16u);
#endif
      red[tid * TK + j] = s;
    }
    workgroupBarrier();
    let at = quad * TK;
    if (cl < nk) { sc[at + cl] = quadScore(quad, cl, G); }
    workgroupBarrier();
    var mt = m;
    for (var j = 0u; j < nk; j++) { mt = max(mt, sc[at + j]); }
    if (cl < nk) { pr[at + cl] = exp(sc[at + cl] - mt); }
    let corr = exp(m - mt);
    rescaleOutputs(corr);
    workgroupBarrier();
    var ps = vec4<f32>(0.0);
    for (var j = 0u; j < nk; j++) {
      let p = pr[at + j];
      ps += p;
      accumulateRow(rp0 + j * (W / 2u), p);
    }
    l = l * corr + ps;
    m = mt;
  }

  let s = u.SPLIT0 + wid.x;
  storeGroup(s, 0u, o0);
  storeGroup(s, 1u, o1);
  storeGroup(s, 2u, o2);
  storeGroup(s, 3u, o3);
  storeGroup(s, 4u, o4);
  storeGroup(s, 5u, o5);
  storeGroup(s, 6u, o6);
  storeGroup(s, 7u, o7);
  if (cl == 0u) {
    for (var a = 0u; a < 4u; a++) {
      let h = hq0 + a;
      if (h < u.H) {
        ml[(s * u.H + h) * 2u] = m[a];
        ml[(s * u.H + h) * 2u + 1u] = l[a];
      }
    }
  }
}
