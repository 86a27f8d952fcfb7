// 2×2 patch merge with a LayerNorm on each slot (spec §8.1–8.2): output row i of the [L, D] view of
// [L/4, 4D] (merged token i/4, slot i%4 = TL, TR, BL, BR) is LayerNorm(x[src[i]]) · w + b, with the
// source rows precomputed on the host. Two-pass mean / variance (biased), eps inside the sqrt.
// Dispatch: one workgroup of 64 threads per output row, spread over (x, y).
@group(0) @binding(1) var<storage, read> x: array<f32>;           // [L, D]
@group(0) @binding(2) var<storage, read> src: array<u32>;         // [L] source row of each output row
@group(0) @binding(3) var<storage, read> lnw: array<u32>;         // [D] in the P_* storage form
@group(0) @binding(4) var<storage, read> lnb: array<u32>;         // [D] in the P_* storage form
@group(0) @binding(5) var<storage, read_write> out: array<f32>;   // [L, D]

fn unpack_param(word: u32, i: u32) -> f32 {
#if P_F32
  return bitcast<f32>(word);
#endif
#if P_F16
  return unpack2x16float(word)[i & 1u];
#endif
#if P_BF16
  return bitcast<f32>(select(word << 16u, word & 0xffff0000u, (i & 1u) == 1u));
#endif
}

fn word_of(i: u32) -> u32 {
#if P_F32
  return i;
#else
  return i >> 1u;
#endif
}

var<workgroup> red: array<f32, 64>;

fn reduce_sum(v: f32, t: u32) -> f32 {
  red[t] = v;
  workgroupBarrier();
  for (var s = 32u; s > 0u; s >>= 1u) {
    if (t < s) {
      red[t] += red[t + s];
    }
    workgroupBarrier();
  }
  let total = red[0];
  workgroupBarrier();
  return total;
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let row = wid.y * u.ROWS_X + wid.x;
  if (row >= u.L) {
    return;  // uniform per workgroup, so no barrier is skipped by part of it
  }
  let t = lid.x;
  let xo = src[row] * u.D;
  var s = 0.0;
  for (var e = t; e < u.D; e += 64u) {
    s += x[xo + e];
  }
  let mean = reduce_sum(s, t) / f32(u.D);
  var v = 0.0;
  for (var e = t; e < u.D; e += 64u) {
    let c = x[xo + e] - mean;
    v += c * c;
  }
  let inv = inverseSqrt(reduce_sum(v, t) / f32(u.D) + u.EPS);
  let oo = row * u.D;
  for (var e = t; e < u.D; e += 64u) {
    let g = unpack_param(lnw[word_of(e)], e);
    let b = unpack_param(lnb[word_of(e)], e);
    out[oo + e] = (x[xo + e] - mean) * inv * g + b;
  }
}
