// MLA step 2 (spec §9.4): attention of qcat[t,h] = [q_lat | q_pe] over the latent cache rows 0..pos0+t
// (causal), with online softmax (flash-decoding style) so any context length fits in one pass:
//   s_j = SCALE · qcat·cache[j];  o_lat = Σ_j softmax(s)_j · c_j  (the first R columns of the rows).
// Dispatch: one workgroup per (t, h, split) (x + y·ROWS_X). Each round scores WG keys (one per thread),
// then every thread rescales and accumulates the R-columns it owns (r ≡ tid mod WG), reading rows
// coalesced. Decode over a long context splits the keys into SPLITS ranges of CHUNK keys (flash-decoding)
// so more workgroups run; with SPLIT each writes its unnormalised partial (o, max, denominator) and
// mla_attention_combine.wgsl merges them; without SPLIT (SPLITS = 1) the result is written normalised.
// A cache in parts (positions KEY0 .. KEY_END per part) takes one dispatch per part, covering splits
// SPLIT0 .. SPLIT0+GRID_SPLITS whose keys lie in that part (one part: KEY0 = 0, KEY_END = ∞, SPLIT0 = 0).
override WG: u32 = 64;
const MAX_W: u32 = 1152u;   // R + P ≤ MAX_W, checked by the wrapper
const MAX_R: u32 = 1088u;

@group(0) @binding(1) var<storage, read> qcat: array<f32>;          // [T, H, R+P]
#if CACHE_F16
@group(0) @binding(2) var<storage, read> cache: array<u32>;         // [KEY_END − KEY0, (R+P)/2] f16 pairs
fn cache_at(i: u32) -> f32 { return unpack2x16float(cache[i >> 1u])[i & 1u]; }
#else
@group(0) @binding(2) var<storage, read> cache: array<f32>;         // [KEY_END − KEY0, R+P]: positions KEY0 ..
fn cache_at(i: u32) -> f32 { return cache[i]; }
#endif
@group(0) @binding(3) var<storage, read_write> olat: array<f32>;    // [T, H, R] (SPLIT: [T·H·SPLITS, R])
#if SPLIT
@group(0) @binding(4) var<storage, read_write> ml: array<f32>;      // [T·H·SPLITS, 2] (max, denominator)
#endif

var<workgroup> qs: array<f32, MAX_W>;
var<workgroup> oacc: array<f32, MAX_R>;
var<workgroup> ps: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let local = wid.y * u.ROWS_X + wid.x;  // (t·H + h)·GRID_SPLITS + sp; the grid is exact, so uniform
  let th = local / u.GRID_SPLITS;
  let sp = local % u.GRID_SPLITS;
  let ths = th * u.SPLITS + u.SPLIT0 + sp;
  let t = th / u.H;
  let W = u.R + u.P;
  for (var r = tid; r < W; r += WG) { qs[r] = qcat[th * W + r]; }
  for (var r = tid; r < u.R; r += WG) { oacc[r] = 0.0; }
  workgroupBarrier();
  let k0 = u.KEY0 + sp * u.CHUNK;                           // this split's first key
  let n = min(min(u.pos0 + t + 1u, k0 + u.CHUNK), u.KEY_END);  // end of this split's visible keys
  var m = -3.0e38;           // running max (identical in every thread)
  var l = 0.0;               // running denominator
  for (var j0 = k0; j0 < n; j0 += WG) {
    let j = j0 + tid;
    var s = -3.0e38;
    if (j < n) {
      var acc = 0.0;
      let ro = (j - u.KEY0) * W;
      for (var r = 0u; r < W; r++) { acc += qs[r] * cache_at(ro + r); }
      s = acc * u.SCALE;
    }
    ps[tid] = s;
    workgroupBarrier();
    var cm = -3.0e38;
    let cnt = min(WG, n - j0);
    for (var i = 0u; i < cnt; i++) { cm = max(cm, ps[i]); }
    let mNew = max(m, cm);
    let corr = exp(m - mNew);
    workgroupBarrier();
    if (tid < cnt) { ps[tid] = exp(s - mNew); }
    workgroupBarrier();
    var sum = 0.0;
    for (var i = 0u; i < cnt; i++) { sum += ps[i]; }
    l = l * corr + sum;
    m = mNew;
    for (var r = tid; r < u.R; r += WG) {
      var a = oacc[r] * corr;
      for (var i = 0u; i < cnt; i++) { a += ps[i] * cache_at((j0 + i - u.KEY0) * W + r); }
      oacc[r] = a;
    }
    workgroupBarrier();
  }
#if SPLIT
  for (var r = tid; r < u.R; r += WG) { olat[ths * u.R + r] = oacc[r]; }
  if (tid == 0u) {
    ml[ths * 2u] = m;
    ml[ths * 2u + 1u] = l;
  }
#else
  for (var r = tid; r < u.R; r += WG) { olat[th * u.R + r] = oacc[r] / l; }
#endif
}
