// Weight rows read in chunks for the decode GEMVs (moe_decode_gate_up.wgsl, moe_decode_down.wgsl).
// One chunk = one vec4<u32> of a row, so neighbouring lanes read neighbouring 16-byte words (coalesced):
//   f32: 4 weights · f16/bf16: 8 (packed two per u32, no shader-f16 needed) · q8: 16 (half a kvq1 block)
//   q4: 32 (a whole kvq1 block). A kvq1 scale is one f16 per 32-weight block (src/tensor/quant_format.ts).
// The including shader defines
//   wq(b, i) -> vec4<u32>   quad i of weight buffer b (VEC4: one 16-byte load; else four u32 loads)
//   ww(b, i) -> u32         word i of weight buffer b (scales, and the ELEMWISE path)
//   xin(i)   -> f32         element i of the input vector (x, or the SiLU·mul activations)
// ELEMWISE (f32/f16/bf16 rows whose length is not a multiple of a chunk, so rows do not start on a quad):
// the chunk is gathered element by element. Lanes of a workgroup always read the same buffer b.
#if W_F32
const CW: u32 = 4u;
const NV: u32 = 1u;
#endif
#if W_F16
const CW: u32 = 8u;
const NV: u32 = 2u;
#endif
#if W_BF16
const CW: u32 = 8u;
const NV: u32 = 2u;
#endif
#if W_Q8
const CW: u32 = 16u;
const NV: u32 = 4u;
#endif
#if W_Q4
const CW: u32 = 32u;
const NV: u32 = 8u;
#endif

/// Chunks per row of length k (nb kvq1 blocks per row for q8/q4).
fn chunks_per_row(k: u32, nb: u32) -> u32 {
#if W_Q8
  return 2u * nb;
#else
#if W_Q4
  return nb;
#else
  return (k + CW - 1u) / CW;
#endif
#endif
}

/// The CW inputs of chunk c starting at element `base` (k beyond the row length reads 0).
fn load_x(base: u32, c: u32, k: u32) -> array<vec4<f32>, NV> {
  var v: array<vec4<f32>, NV>;
  for (var j = 0u; j < NV; j++) {
    let k0 = c * CW + 4u * j;
    if (k0 + 4u <= k) {
      v[j] = vec4<f32>(xin(base + k0), xin(base + k0 + 1u), xin(base + k0 + 2u), xin(base + k0 + 3u));
    } else {
      var t = vec4<f32>(0.0);
      for (var i = 0u; i < 4u; i++) {
        if (k0 + i < k) { t[i] = xin(base + k0 + i); }
      }
      v[j] = t;
    }
  }
  return v;
}

fn x_sum(v: array<vec4<f32>, NV>) -> f32 {
  var s = vec4<f32>(0.0);
  for (var j = 0u; j < NV; j++) { s += v[j]; }
  return s.x + s.y + s.z + s.w;
}

fn bf16_pair(w: u32) -> vec2<f32> {
  return vec2<f32>(bitcast<f32>(w << 16u), bitcast<f32>(w & 0xffff0000u));
}

fn half_pair(w: u32) -> vec2<f32> {
#if W_BF16
  return bf16_pair(w);
#else
  return unpack2x16float(w);
#endif
}

#if ELEMWISE
/// Element e of a dense row-major weight in buffer b.
fn w_at(b: u32, e: u32) -> f32 {
#if W_F32
  return bitcast<f32>(ww(b, e));
#else
  return half_pair(ww(b, e >> 1u))[e & 1u];
#endif
}
#endif

fn kvq_scale(b: u32, soff: u32, block: u32) -> f32 {
  return unpack2x16float(ww(b, soff + (block >> 1u)))[block & 1u];
}

/// Σ_j w[row, c·CW + j] · x_j over one chunk of the row-major weight [rows, k] in buffer b.
/// xs = x_sum(xv), used by q4 (Σ (q − 8)·x = Σ q·x − 8·Σ x); soff = the kvq1 scale word offset.
fn chunk_dot(b: u32, row: u32, c: u32, k: u32, nb: u32, soff: u32, xv: array<vec4<f32>, NV>, xs: f32) -> f32 {
#if ELEMWISE
  var acc = 0.0;
  for (var j = 0u; j < NV; j++) {
    for (var i = 0u; i < 4u; i++) {
      let kk = c * CW + 4u * j + i;
      if (kk < k) { acc += w_at(b, row * k + kk) * xv[j][i]; }
    }
  }
  return acc;
#else
#if W_F32
  return dot(bitcast<vec4<f32>>(wq(b, (row * k) / 4u + c)), xv[0]);
#endif
#if W_F16
  let q = wq(b, (row * k) / 8u + c);
  return dot(vec4<f32>(half_pair(q.x), half_pair(q.y)), xv[0]) + dot(vec4<f32>(half_pair(q.z), half_pair(q.w)), xv[1]);
#endif
#if W_BF16
  let q = wq(b, (row * k) / 8u + c);
  return dot(vec4<f32>(half_pair(q.x), half_pair(q.y)), xv[0]) + dot(vec4<f32>(half_pair(q.z), half_pair(q.w)), xv[1]);
#endif
#if W_Q8
  // quad c of the row = half-block c (words of 4 int8, element j is byte j)
  let q = wq(b, row * nb * 2u + c);
  let sh = vec4<u32>(24u, 16u, 8u, 0u);
  var acc = 0.0;
  for (var j = 0u; j < 4u; j++) {
    let v = vec4<f32>(bitcast<vec4<i32>>(vec4<u32>(q[j]) << sh) >> vec4<u32>(24u));
    acc += dot(v, xv[j]);
  }
  return acc * kvq_scale(b, soff, row * nb + (c >> 1u));
#endif
#if W_Q4
  // quad c of the row = block c (word j holds elements 8j .. 8j+7, low nibble first)
  let q = wq(b, row * nb + c);
  let lo = vec4<u32>(0u, 4u, 8u, 12u);
  let hi = vec4<u32>(16u, 20u, 24u, 28u);
  var acc = 0.0;
  for (var j = 0u; j < 4u; j++) {
    let w = vec4<u32>(q[j]);
    acc += dot(vec4<f32>((w >> lo) & vec4<u32>(15u)), xv[2u * j]);
    acc += dot(vec4<f32>((w >> hi) & vec4<u32>(15u)), xv[2u * j + 1u]);
  }
  return (acc - 8.0 * xs) * kvq_scale(b, soff, row * nb + c);
#endif
#endif
}
