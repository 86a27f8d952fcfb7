// Token sampler (follows src/kernels/language/sample.ref.ts step by step). Three entry variants:
//   COPY:    l[i] = logits[i]                                    (one thread per id)
//   PENALTY: l[id] = logits[id] > 0 ? /P : ·P for id in history  (one thread per history entry; duplicates
//            write the same value, so the penalty applies once per distinct id)
//   PICK:    one workgroup: greedy argmax (ties → lowest id), or e_i = exp((l_i − max)·INV_TEMP), top-k and
//            top-p thresholds by binary search over f32 bit patterns (monotone for e ≥ 0), then the first id
//            whose running kept mass exceeds U · total (U drawn on the host from (seed, step)).
override WG: u32 = 256;

#if PICK
@group(0) @binding(1) var<storage, read> l: array<f32>;             // [V] penalised logits
@group(0) @binding(2) var<storage, read_write> outId: array<u32>;   // [1]
#endif
#if PENALTY
@group(0) @binding(1) var<storage, read> logits: array<f32>;        // [V]
@group(0) @binding(2) var<storage, read> hist: array<u32>;          // [NHIST]
@group(0) @binding(3) var<storage, read_write> l: array<f32>;       // [V]
#endif
#if COPY
@group(0) @binding(1) var<storage, read> logits: array<f32>;        // [V]
@group(0) @binding(2) var<storage, read_write> l: array<f32>;       // [V]
#endif

#if PICK
var<workgroup> rv: array<f32, WG>;
var<workgroup> ri: array<u32, WG>;
var<workgroup> chosen: u32;

fn weight(i: u32, mx: f32) -> f32 {
  return exp((l[i] - mx) * u.INV_TEMP);
}

/// Sum over threads of `v` (tree reduction; every thread gets the result).
fn sum_all(tid: u32, v: f32) -> f32 {
  workgroupBarrier();
  rv[tid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (tid < s) { rv[tid] += rv[tid + s]; }
    workgroupBarrier();
  }
  return workgroupUniformLoad(&rv[0]);
}

/// Sum over threads of a count: counts stay below V ≤ 2^24, where f32 sums of integers are exact.
fn count_all(tid: u32, v: u32) -> u32 {
  return u32(sum_all(tid, f32(v)));
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) tid: u32) {
  // argmax with ties → lowest id: each thread scans ids tid, tid+WG, … ascending, then a tree over threads
  var bv = -3.4e38;
  var bi = 0xffffffffu;
  for (var i = tid; i < u.V; i += WG) {
    if (l[i] > bv) { bv = l[i]; bi = i; }
  }
  rv[tid] = bv;
  ri[tid] = bi;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (tid < s) {
      let ov = rv[tid + s];
      let oi = ri[tid + s];
      if (ov > rv[tid] || (ov == rv[tid] && oi < ri[tid])) { rv[tid] = ov; ri[tid] = oi; }
    }
    workgroupBarrier();
  }
  let mx = rv[0];
  if (u.GREEDY != 0u) {
    if (tid == 0u) { outId[0] = ri[0]; }
    return;
  }
  // top-k: the largest bit pattern b with #{e_i ≥ b} ≥ K is exactly the k-th largest weight
  var kth = 0u;
  if (u.TOPK > 0u && u.TOPK < u.V) {
    var lo = 0u;
    var hi = bitcast<u32>(1.0);
    while (lo < hi) {
      let mid = lo + (hi - lo + 1u) / 2u;
      var c = 0u;
      for (var i = tid; i < u.V; i += WG) { c += select(0u, 1u, bitcast<u32>(weight(i, mx)) >= mid); }
      if (count_all(tid, c) >= u.TOPK) { lo = mid; } else { hi = mid - 1u; }
    }
    kth = lo;
  }
  // top-p: smallest b such that the kept mass strictly above b is < TOPP · kept total; keep e ≥ b
  var keepFrom = kth;
  var part = 0.0;
  for (var i = tid; i < u.V; i += WG) {
    let e = weight(i, mx);
    if (bitcast<u32>(e) >= kth) { part += e; }
  }
  let total = sum_all(tid, part);
  if (u.TOPP > 0.0 && u.TOPP < 1.0) {
    var lo = kth;
    var hi = bitcast<u32>(1.0);
    while (lo < hi) {
      let mid = lo + (hi - lo) / 2u;
      var a = 0.0;
      for (var i = tid; i < u.V; i += WG) {
        let e = weight(i, mx);
        let b = bitcast<u32>(e);
        if (b >= kth && b > mid) { a += e; }
      }
      if (sum_all(tid, a) < u.TOPP * total) { hi = mid; } else { lo = mid + 1u; }
    }
    keepFrom = lo;
  }
  // inverse CDF in id order: contiguous chunks per thread, chunk sums, thread 0 walks to the goal
  let chunk = (u.V + WG - 1u) / WG;
  let c0 = tid * chunk;
  let c1 = min(u.V, c0 + chunk);
  var cs = 0.0;
  for (var i = c0; i < c1; i++) {
    let e = weight(i, mx);
    if (bitcast<u32>(e) >= keepFrom) { cs += e; }
  }
  workgroupBarrier();
  rv[tid] = cs;
  workgroupBarrier();
  if (tid == 0u) {
    var kept = 0.0;
    for (var k = 0u; k < WG; k++) { kept += rv[k]; }
    let goal = u.U * kept;
    var run = 0.0;
    var last = ri[0];
    var found = false;
    for (var k = 0u; k < WG && !found; k++) {
      if (run + rv[k] <= goal && k + 1u < WG) { run += rv[k]; continue; }
      let a = k * chunk;
      let b = min(u.V, a + chunk);
      for (var i = a; i < b; i++) {
        let e = weight(i, mx);
        if (bitcast<u32>(e) < keepFrom) { continue; }
        run += e;
        last = i;
        if (run > goal) { found = true; break; }
      }
    }
    outId[0] = last;
  }
}
#else
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let i = (wid.y * u.ROWS_X + wid.x) * WG + tid;
#if PENALTY
  if (i >= u.NHIST) { return; }
  let id = hist[i];
  if (id >= u.V) { return; }
  let v = logits[id];
  l[id] = select(v * u.PENALTY_F, v / u.PENALTY_F, v > 0.0);
#else
  if (i >= u.V) { return; }
  l[i] = logits[i];
#endif
}
#endif
