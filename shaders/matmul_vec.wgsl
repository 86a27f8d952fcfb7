// y[n] = Σ_k x[k] · w[n, k] (+ bias[n]) for one activation row (decode). Bandwidth-bound: every weight
// byte is read exactly once, as whole u32 words, with consecutive threads on consecutive words of a row
// (coalesced). Packed forms: bf16/f16 2 per word, q8 4 per word, q4 8 per word (kvq1 blocks of 32).
// Dispatch: one workgroup per output row n, rows laid out 2-D as (x = n % ROWS_X, y = n / ROWS_X) to
// stay under maxComputeWorkgroupsPerDimension; WG threads stride over the row and reduce in workgroup memory.
override WG: u32 = 128;

#if SHADER_F16
enable f16;
#endif
@group(0) @binding(1) var<storage, read> x: array<f32>;        // [K]
#if SHADER_F16
@group(0) @binding(2) var<storage, read> w: array<vec2<f16>>;  // [N, K/2] f16 pairs, read natively
#else
@group(0) @binding(2) var<storage, read> w: array<u32>;        // [N, K] in the W_* storage form
#endif
@group(0) @binding(3) var<storage, read_write> y: array<f32>;  // [Y_STRIDE]: a weight part writes y[Y_OFF .. Y_OFF+N)
#if HAS_BIAS
@group(0) @binding(4) var<storage, read> bias: array<f32>;     // [Y_STRIDE]
#endif

#if SHADER_F16
#else
#include "common/weights.wgsl"
#endif

var<workgroup> partial: array<f32, WG>;

/// x[k], or 0 past the end (padding of the last kvq1 block; x's pooled buffer may hold stale values there).
fn xk(k: u32) -> f32 {
  return select(0.0, x[min(k, u.K - 1u)], k < u.K);
}

#if W_Q8
const WPB: u32 = 8u; // words per kvq1 block: 32 int8 values
/// Σ of the 4 int8 values of `word` times x[k0 .. k0+3].
fn word_dot(word: u32, k0: u32) -> f32 {
  let q = vec4<i32>(bitcast<i32>(word << 24u), bitcast<i32>(word << 16u), bitcast<i32>(word << 8u), bitcast<i32>(word)) >> vec4<u32>(24u);
  let xv = vec4<f32>(xk(k0), xk(k0 + 1u), xk(k0 + 2u), xk(k0 + 3u));
  return dot(vec4<f32>(q), xv);
}
#endif
#if W_Q4
const WPB: u32 = 4u; // words per kvq1 block: 32 int4 values
/// Σ of the 8 int4 values (offset 8) of `word` times x[k0 .. k0+7].
fn word_dot(word: u32, k0: u32) -> f32 {
  let lo = vec4<f32>(vec4<u32>(word, word >> 4u, word >> 8u, word >> 12u) & vec4<u32>(15u)) - vec4<f32>(8.0);
  let hi = vec4<f32>(vec4<u32>(word >> 16u, word >> 20u, word >> 24u, word >> 28u) & vec4<u32>(15u)) - vec4<f32>(8.0);
  let x0 = vec4<f32>(xk(k0), xk(k0 + 1u), xk(k0 + 2u), xk(k0 + 3u));
  let x1 = vec4<f32>(xk(k0 + 4u), xk(k0 + 5u), xk(k0 + 6u), xk(k0 + 7u));
  return dot(lo, x0) + dot(hi, x1);
}
#endif

fn row_dot(n: u32, tid: u32) -> f32 {
  var acc = 0.0;
#if PACKED16
  // K is even: the row starts on a word boundary.
  let half_k = u.K / 2u;
  let base = n * half_k;
  for (var i = tid; i < half_k; i += WG) {
#if SHADER_F16
    let v = vec2<f32>(w[base + i]);
#else
    let word = w[base + i];
#if W_F16
    let v = unpack2x16float(word);
#else
    let v = vec2<f32>(bitcast<f32>(word << 16u), bitcast<f32>(word & 0xffff0000u));
#endif
#endif
    acc += x[2u * i] * v.x + x[2u * i + 1u] * v.y;
  }
#endif
#if KVQ1
  // kvq1: each thread takes whole words of a row's blocks (WPB words of 32/WPB values per block).
  let words = u.NB * WPB;
  for (var i = tid; i < words; i += WG) {
    let block = n * u.NB + i / WPB;
    let k0 = (i / WPB) * 32u + (i % WPB) * (32u / WPB);
    acc += word_dot(w[block * WPB + i % WPB], k0) * w_scale(block);
  }
#endif
#if ELEMENTWISE
  // f32 weights, or f16/bf16 rows that do not start on a word boundary (odd K).
  for (var k = tid; k < u.K; k += WG) { acc += x[k] * w_elem(n, k); }
#endif
  return acc;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let n = wid.y * u.ROWS_X + wid.x;
  var acc = 0.0;
  if (n < u.N) { acc = row_dot(n, tid); }
  partial[tid] = acc;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (tid < s) { partial[tid] += partial[tid + s]; }
    workgroupBarrier();
  }
  if (tid == 0u && n < u.N) {
    var r = partial[0];
#if HAS_BIAS
    r += bias[u.Y_OFF + n];
#endif
    y[u.Y_OFF + n] = r;
  }
}
