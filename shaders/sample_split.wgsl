// Token sampler over many workgroups (the split mode of src/kernels/language/sample.ts; shaders/sample.wgsl
// stays the one-workgroup reference mode). The vocabulary is cut into chunks of CH ids, one workgroup each;
// one-workgroup passes combine the chunks' results. Entries (one define each), in dispatch order:
//   SPLIT_MAX: chunk w → its max and argmax (ties → lowest id)                        [NWG workgroups]
//   REDUCE:    the chunks' → max mx and argmax; greedy: out = argmax. Clears the top-k histograms.  [1]
//   HIST:      round r of the top-k radix select: counts of the 8-bit digit r of key(i) = bits of
//              e_i = exp((l_i − mx)·INV_TEMP) over the ids whose higher digits equal the prefix so far [NWG]
//   SELECT:    round r: the digit holding the K-th largest key; after 4 rounds the prefix IS the K-th
//              largest key, i.e. the largest b with #{key ≥ b} ≥ K (sample.wgsl's binary search)      [1]
//   MASS:      chunk w → Σ e_i over its kept ids (key ≥ s[2])                          [NWG workgroups]
//   top-p (after a MASS pass over the top-k survivors gives the total), 4 radix rounds of:
//   PHIST:     round r: chunk w → the mass of its top-k survivors per 8-bit digit r of the key, over
//              the ids whose higher digits equal the top-p prefix so far (each lane one digit, summing
//              the chunk's keys from workgroup memory in id order: no float atomics)    [NWG workgroups]
//   PSELECT:   round r: the digit masses summed over chunks; the lowest digit d whose mass above
//              (the mass already above the prefix + the digits over d) stays < TOPP · total. After 4
//              rounds the prefix is the smallest b with mass{kept, key > b} < TOPP · total (sample.wgsl's
//              binary search); s[2] = max(kth, b), and MASS runs again over the nucleus       [1]
//   PICK:      goal = U · Σ chunk masses; the chunk holding it, then the first kept id in id order whose
//              running mass exceeds the goal (sample.wgsl's inverse CDF, chunk by chunk)            [1]
// Scratch s (u32): [0] mx bits, [1] argmax, [2] kth key (prefix), [3] K left, [4] top-p prefix, [5] mass
// above it, [6] TOPP · total (f32 bits), [HIST0..+1024) histograms of rounds 0..3, [PARTS..+2·NWG) chunk
// (max bits, argmax), then NWG chunk masses (f32 bits), then top-p's NWG × 256 digit masses (f32 bits).
override WG: u32 = 256;

const HIST0 = 16u;
const PARTS = 1040u;

@group(0) @binding(1) var<storage, read> l: array<f32>;             // [V] logits (penalised copy if any)
#if HIST
@group(0) @binding(2) var<storage, read_write> s: array<atomic<u32>>; // scratch, see above
#else
@group(0) @binding(2) var<storage, read_write> s: array<u32>;         // scratch, see above
#endif
@group(0) @binding(3) var<storage, read_write> outId: array<u32>;     // [1]

var<workgroup> rv: array<f32, WG>;
var<workgroup> ri: array<u32, WG>;

fn weight(i: u32, mx: f32) -> f32 {
  return exp((l[i] - mx) * u.INV_TEMP);
}

/// Whether key k is in play in radix round u.ROUND: round 0 takes every key; later rounds the keys whose
/// higher digits (above the round's digit at `shift`) equal those of `prefix`.
fn in_prefix(k: u32, prefix: u32, shift: u32) -> bool {
  return u.ROUND == 0u || (k >> (shift + 8u)) == (prefix >> (shift + 8u));
}

/// (rv, ri)[0] = the max over threads, ties → lowest id.
fn argmax_all(tid: u32, v: f32, i: u32) {
  rv[tid] = v;
  ri[tid] = i;
  workgroupBarrier();
  for (var st = WG / 2u; st > 0u; st >>= 1u) {
    if (tid < st) {
      let ov = rv[tid + st];
      let oi = ri[tid + st];
      if (ov > rv[tid] || (ov == rv[tid] && oi < ri[tid])) { rv[tid] = ov; ri[tid] = oi; }
    }
    workgroupBarrier();
  }
}

#if HIST
var<workgroup> h: array<atomic<u32>, 256>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  for (var j = tid; j < 256u; j += WG) { atomicStore(&h[j], 0u); }
  workgroupBarrier();
  let mx = bitcast<f32>(atomicLoad(&s[0]));
  let prefix = atomicLoad(&s[2]);
  let shift = 24u - 8u * u.ROUND;
  let c0 = wid.x * u.CH;
  let c1 = min(u.V, c0 + u.CH);
  for (var i = c0 + tid; i < c1; i += WG) {
    let k = bitcast<u32>(weight(i, mx));
    if (in_prefix(k, prefix, shift)) {
      atomicAdd(&h[(k >> shift) & 255u], 1u);
    }
  }
  workgroupBarrier();
  for (var j = tid; j < 256u; j += WG) {
    let c = atomicLoad(&h[j]);
    if (c > 0u) { atomicAdd(&s[HIST0 + 256u * u.ROUND + j], c); }
  }
}
#endif

#if SPLIT_MAX
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let c0 = wid.x * u.CH;
  let c1 = min(u.V, c0 + u.CH);
  var bv = -3.4e38;
  var bi = 0xffffffffu;
  for (var i = c0 + tid; i < c1; i += WG) {
    if (l[i] > bv) { bv = l[i]; bi = i; }
  }
  argmax_all(tid, bv, bi);
  if (tid == 0u) {
    s[PARTS + 2u * wid.x] = bitcast<u32>(rv[0]);
    s[PARTS + 2u * wid.x + 1u] = ri[0];
  }
}
#endif

#if REDUCE
@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) tid: u32) {
  var bv = -3.4e38;
  var bi = 0xffffffffu;
  for (var w = tid; w < u.NWG; w += WG) {
    let v = bitcast<f32>(s[PARTS + 2u * w]);
    let i = s[PARTS + 2u * w + 1u];
    if (v > bv || (v == bv && i < bi)) { bv = v; bi = i; }
  }
  argmax_all(tid, bv, bi);
  for (var j = tid; j < 1024u; j += WG) { s[HIST0 + j] = 0u; }
  if (tid == 0u) {
    s[0] = bitcast<u32>(rv[0]);
    s[1] = ri[0];
    s[2] = 0u;
    s[3] = u.TOPK;
    s[4] = 0u;
    s[5] = 0u;
    if (u.GREEDY != 0u) { outId[0] = ri[0]; }
  }
}
#endif

#if SELECT
@compute @workgroup_size(1)
fn main() {
  let shift = 24u - 8u * u.ROUND;
  var need = s[3];
  var b = 255i;
  // from the largest digit down: the digit where the count of larger keys first reaches K
  loop {
    let c = s[HIST0 + 256u * u.ROUND + u32(b)];
    if (need <= c || b == 0i) { break; }
    need -= c;
    b -= 1i;
  }
  s[2] = s[2] | (u32(b) << shift);
  s[3] = need;
}
#endif

#if MASS
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let mx = bitcast<f32>(s[0]);
  let kth = s[2];
  let c0 = wid.x * u.CH;
  let c1 = min(u.V, c0 + u.CH);
  var part = 0.0;
  for (var i = c0 + tid; i < c1; i += WG) {
    let e = weight(i, mx);
    if (bitcast<u32>(e) >= kth) { part += e; }
  }
  rv[tid] = part;
  workgroupBarrier();
  for (var st = WG / 2u; st > 0u; st >>= 1u) {
    if (tid < st) { rv[tid] += rv[tid + st]; }
    workgroupBarrier();
  }
  if (tid == 0u) { s[PARTS + 2u * u.NWG + wid.x] = bitcast<u32>(rv[0]); }
}
#endif

#if PICK
@compute @workgroup_size(1)
fn main() {
  let mx = bitcast<f32>(s[0]);
  let kth = s[2];
  let masses = PARTS + 2u * u.NWG;
  var kept = 0.0;
  for (var w = 0u; w < u.NWG; w++) { kept += bitcast<f32>(s[masses + w]); }
  let goal = u.U * kept;
  var run = 0.0;
  var last = s[1];
  var found = false;
  for (var w = 0u; w < u.NWG && !found; w++) {
    let m = bitcast<f32>(s[masses + w]);
    if (run + m <= goal && w + 1u < u.NWG) { run += m; continue; }
    let a = w * u.CH;
    let b = min(u.V, a + u.CH);
    for (var i = a; i < b; i++) {
      let e = weight(i, mx);
      if (bitcast<u32>(e) < kth) { continue; }
      run += e;
      last = i;
      if (run > goal) { found = true; break; }
    }
  }
  outId[0] = last;
}
#endif

#if PHIST
var<workgroup> keys: array<u32, 1024>; // the chunk's keys in play this round (0: not in play, no mass)

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let mx = bitcast<f32>(s[0]);
  let kth = s[2];
  let prefix = s[4];
  let shift = 24u - 8u * u.ROUND;
  let c0 = wid.x * u.CH;
  let n = min(u.V, c0 + u.CH) - c0;
  for (var j = tid; j < u.CH; j += WG) {
    var k = 0u;
    if (j < n) {
      k = bitcast<u32>(weight(c0 + j, mx));
      k = select(0u, k, k >= kth && in_prefix(k, prefix, shift));
    }
    keys[j] = k;
  }
  workgroupBarrier();
  let out = PARTS + 3u * u.NWG + 256u * wid.x;
  for (var d = tid; d < 256u; d += WG) {
    var m = 0.0;
    for (var j = 0u; j < n; j++) {
      let k = keys[j];
      if (((k >> shift) & 255u) == d) { m += bitcast<f32>(k); }
    }
    s[out + d] = bitcast<u32>(m);
  }
}
#endif

#if PSELECT
var<workgroup> dm: array<f32, 256>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) tid: u32) {
  let shift = 24u - 8u * u.ROUND;
  for (var d = tid; d < 256u; d += WG) {
    var m = 0.0;
    for (var w = 0u; w < u.NWG; w++) { m += bitcast<f32>(s[PARTS + 3u * u.NWG + 256u * w + d]); }
    dm[d] = m;
  }
  workgroupBarrier();
  if (tid != 0u) { return; }
  if (u.ROUND == 0u) {
    var total = 0.0;
    for (var w = 0u; w < u.NWG; w++) { total += bitcast<f32>(s[PARTS + 2u * u.NWG + w]); }
    s[6] = bitcast<u32>(u.TOPP * total);
  }
  let goal = bitcast<f32>(s[6]);
  var above = bitcast<f32>(s[5]); // < goal: the digits over the prefix's keep less than TOPP · total
  var d = 255u;
  while (d > 0u && above + dm[d] < goal) {
    above += dm[d];
    d -= 1u;
  }
  let prefix = s[4] | (d << shift);
  s[4] = prefix;
  s[5] = bitcast<u32>(above);
  if (u.ROUND == 3u) { s[2] = max(s[2], prefix); }
}
#endif
