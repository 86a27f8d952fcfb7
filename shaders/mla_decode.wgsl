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
// per head; lane `l` owns columns l, l+16, l+32, … of its head's q (QD registers) and o (OD registers), so
// a staged row is read bank-conflict free and broadcast across heads. A score is the sum of the 16 lanes'
// partial dots: subgroupShuffleXor over 1, 2 (and 4, 8 where the subgroup is that wide), the rest through
// workgroup memory (all of it without subgroups). Every lane of a head then holds the full scores of the
// tile and runs the online softmax itself. Private arrays are indexed by loop counters with constant
// bounds only, so they stay in registers.
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
const LPH: u32 = 16u;      // lanes per head
const QD: u32 = 36u;       // q columns per lane: W ≤ LPH · QD = 576
const OD: u32 = 32u;       // o columns per lane: R ≤ LPH · OD = 512
const TK_MAX: u32 = 16u;

@group(0) @binding(1) var<storage, read> qcat: array<f32>;          // [H, W]
#if CACHE_F32
@group(0) @binding(2) var<storage, read> cache: array<f32>;         // [part rows, W]: positions KEY0 ..
#endif
#if CACHE_F16_PACKED
@group(0) @binding(2) var<storage, read> cache: array<u32>;         // [part rows, W/2] halves, two per word
#endif
#if CACHE_F16_NATIVE
@group(0) @binding(2) var<storage, read> cache: array<vec2<f16>>;   // [part rows, W/2]
#endif
@group(0) @binding(3) var<storage, read_write> part: array<f32>;    // [SPLITS, H, R] unnormalised o
@group(0) @binding(4) var<storage, read_write> ml: array<f32>;      // [SPLITS, H, 2] (max, denominator)

var<workgroup> tile: array<f32, TILE_WORDS>;  // [TK, W] the staged keys
var<workgroup> red: array<f32, RED_WORDS>;    // [WG, TK] partial dots for the cross-lane sum

/// Columns 2i, 2i+1 of the flattened part, as f32.
fn cache_pair(i: u32) -> vec2<f32> {
#if CACHE_F32
  return vec2<f32>(cache[2u * i], cache[2u * i + 1u]);
#endif
#if CACHE_F16_PACKED
  return unpack2x16float(cache[i]);
#endif
#if CACHE_F16_NATIVE
  return vec2<f32>(cache[i]);
#endif
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
  let lane = tid % LPH;
  let h = wid.y * (WG / LPH) + hl;
  let live = h < u.H;        // lanes of a missing head still load and reach every barrier
  let hc = min(h, u.H - 1u);

  var q: array<f32, QD>;
  for (var i = 0u; i < QD; i++) {
    let col = lane + i * LPH;
    q[i] = select(0.0, qcat[hc * W + min(col, W - 1u)] * u.SCALE, col < W);
  }
  var o: array<f32, OD>;
  for (var i = 0u; i < OD; i++) { o[i] = 0.0; }
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

    var s: array<f32, TK_MAX>;
    for (var j = 0u; j < TK; j++) {
      var acc = 0.0;
      for (var i = 0u; i < QD; i++) {
        let col = lane + i * LPH;
        if (col < W) { acc += q[i] * tile[j * W + col]; }
      }
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
    var mt = -3.0e38;
    for (var j = 0u; j < TK; j++) {
      var sum = 0.0;
      for (var g = 0u; g < LPH; g += G) { sum += red[(hl * LPH + g) * TK + j]; }
      s[j] = select(-3.0e38, sum, j < nk);
      mt = max(mt, s[j]);
    }
    let mNew = max(m, mt);
    let corr = exp(m - mNew);
    var p: array<f32, TK_MAX>;
    var ps = 0.0;
    for (var j = 0u; j < TK; j++) {
      p[j] = select(0.0, exp(s[j] - mNew), j < nk);
      ps += p[j];
    }
    l = l * corr + ps;
    m = mNew;
    for (var i = 0u; i < OD; i++) {
      let r = lane + i * LPH;
      if (r < u.R) {
        var a = o[i] * corr;
        for (var j = 0u; j < TK; j++) { a += p[j] * tile[j * W + r]; }
        o[i] = a;
      }
    }
  }

  if (!live) { return; }
  let row = (u.SPLIT0 + wid.x) * u.H + h;
  for (var i = 0u; i < OD; i++) {
    let r = lane + i * LPH;
    if (r < u.R) { part[row * u.R + r] = o[i]; }
  }
  if (lane == 0u) {
    ml[row * 2u] = m;
    ml[row * 2u + 1u] = l;
  }
}
