// GEMV (decode, one activation row): y[n] = s · Σ_k w[n, k] · x'[k] (+ bias[n]) (+ residual[n]), where
// x' = x, s = 1, or with the rms-norm prologue (NORM) x' = x · nw and s = 1 / sqrt(mean(x²) + eps): the
// norm's scale is one scalar per token, so it is applied once per output instead of per element and Σx²
// is summed in the same pass over x (no separate norm dispatch, no extra barrier).
//
// Bandwidth-bound, so the layout is about reading each weight byte once, in wide coalesced loads:
//   - a workgroup computes ROWS consecutive output rows; its WG lanes stride over the row's *units*, 16
//     weight bytes each (one vec4<u32> load): a whole kvq1 q4 block (32 values), 8 bf16/f16 halves or
//     4 f32; for q8 a unit is its whole 32-byte block (two vec4<u32> loads), so each lane decodes one
//     scale per 32 values and half as many units are reduced (2x faster than half-blocks on SwiftShader,
//     same bytes per workgroup on a GPU). Neighbouring lanes read neighbouring units (coalesced);
//   - the x values of a unit are loaded once into registers (xs) and reused for all ROWS rows;
//   - q4: Σ(q − 8)·x = Σ q·x − 8·Σx, with Σx per unit computed once and shared by the rows;
//   - the lane partials are reduced by subgroupAdd plus one slot per subgroup in workgroup memory
//     (SUBGROUPS; 1-D workgroups fill subgroups in local index order), or without subgroups in two
//     strided passes through workgroup memory (2 barriers, not log2(WG)).
// Shapes that cannot take 16-byte units (f32 rows with K % 4 ≠ 0, 16-bit rows with K % 8 ≠ 0) take
// 4-element units read through common/weights.wgsl (ELEMENTWISE).
// Two weights of one shape family in one dispatch (DUAL; src/kernels/core/gemv_dual.ts), both read
// against the same x' (so the norm prologue and the x loads are shared):
//   - PAIR: the rows of w (into y) and then the rows of w2 (into y2): workgroups [0, G1) take w, the
//     rest w2 (uniform per workgroup, so the branch never diverges), e.g. MLA's q and kv_a projections;
//   - GLU: row n of w (gate) and row n of w2 (up) in the same workgroup, y[n] = silu(gate · x') · (up · x'),
//     the SwiGLU's first half with its elementwise product in the epilogue.
// Routed experts of one token by the router's device-side ids (src/kernels/language/moe_decode.ts), the
// weights stacked [E·N, K] (expert e's rows at (e − E0)·N within a part holding experts E0 .. E0+EN):
//   - EXPERT_ROWS: the workgroups of slot a (A slots, GPS each) read the rows of expert ids[a] and write
//     y[a·N ..] (with GLU: the experts' gate·up with silu in the epilogue);
//   - SLOT_SUM: y[n] = Σ_a wts[a] · (x[a] · w_{ids[a]}[n]), x = [A, K] (the experts' down projection and
//     the router-weighted sum in one pass; the residual epilogue adds the shared experts' output).
//   Slots whose expert lies in another part are skipped (uniform per workgroup).
// Grid: one workgroup per ROWS rows, group = wid.y · num_workgroups.x + wid.x; when no exact 2-D
// factorisation exists the few padding workgroups past the last row exit at once.
// The wrapper (src/kernels/core/gemv.ts) prepends `const ROWS` and the binding declarations, in the
// order it binds them: x, w (u32 view), [wv | wh (16-byte view)], y, [w2, wv2 | wh2], [y2], [bias], [nw],
// [residual], [ids], [wts].
override WG: u32 = 64;

#if SUBGROUPS
enable subgroups;
#endif
#if SHADER_F16
enable f16;
#endif

#include "common/weights.wgsl"

#if W_Q4
const XV: u32 = 8u; // vec4s of x per unit
fn units_per_row() -> u32 { return u.NB; }
#endif
#if W_Q8
const XV: u32 = 8u;
fn units_per_row() -> u32 { return u.NB; }
#endif
#if W_VEC16
const XV: u32 = 2u;
fn units_per_row() -> u32 { return u.K / 8u; }
#endif
#if W_VEC32
const XV: u32 = 1u;
fn units_per_row() -> u32 { return u.K / 4u; }
#endif
#if ELEMENTWISE
const XV: u32 = 1u;
fn units_per_row() -> u32 { return (u.K + 3u) / 4u; }
#endif

var<private> xs: array<vec4<f32>, XV>; // x' of the current unit (zeros past K)
var<private> xsum: f32;                // Σ of xs (q4's −8 offset)

var<private> xoff: u32; // x row of the current slot (SLOT_SUM), in elements

/// x[xoff + 4·i .. +3] with zeros past K (the pooled buffer may hold stale values there).
fn load4(i: u32) -> vec4<f32> {
#if X_VEC4
  return select(vec4<f32>(0.0), x[xoff / 4u + min(i, u.K / 4u - 1u)], i < u.K / 4u);
#else
  let k = 4u * i;
  let c = vec4<u32>(k, k + 1u, k + 2u, k + 3u);
  let at = xoff + min(c, vec4<u32>(u.K - 1u));
  let v = vec4<f32>(x[at.x], x[at.y], x[at.z], x[at.w]);
  return select(vec4<f32>(0.0), v, c < vec4<u32>(u.K));
#endif
}

#if NORM
/// The norm weight nw[4·i .. 4·i+3] (zeros past K: x is zero there anyway).
fn load_nw4(i: u32) -> vec4<f32> {
  let k = 4u * i;
  let c = vec4<u32>(k, k + 1u, k + 2u, k + 3u);
  let v = vec4<f32>(nw[min(c.x, u.K - 1u)], nw[min(c.y, u.K - 1u)], nw[min(c.z, u.K - 1u)], nw[min(c.w, u.K - 1u)]);
  return select(vec4<f32>(0.0), v, c < vec4<u32>(u.K));
}
#endif

// The loads of weight b (0: w, 1: w2 with DUAL). b is uniform per call site, so the select costs no divergence.
#if WV
fn wv_at(b: u32, i: u32) -> vec4<u32> {
#if DUAL
  if (b == 1u) { return wv2[i]; }
#endif
  return wv[i];
}
#endif
#if SHADER_F16
fn wh_at(b: u32, i: u32) -> vec4<f16> {
#if DUAL
  if (b == 1u) { return wh2[i]; }
#endif
  return wh[i];
}
#endif
#if QUANT
fn scale_at(b: u32, block: u32) -> f32 {
#if DUAL
  if (b == 1u) { return unpack2x16float(w2[u.SCALE_OFF2 + (block >> 1u)])[block & 1u]; }
#endif
  return w_scale(block);
}
#endif

/// Σ w_b[row, unit] · xs: the weight bytes of one unit (16, q8 32) against the x values already in registers.
fn unit_dot(which: u32, row: u32, un: u32) -> f32 {
#if W_Q4
  let blk = row * u.NB + un;
  let q = wv_at(which, blk);
  var s = 0.0;
  for (var j = 0u; j < 4u; j++) {
    let lo = vec4<f32>((vec4<u32>(q[j]) >> vec4<u32>(0u, 4u, 8u, 12u)) & vec4<u32>(15u));
    let hi = vec4<f32>((vec4<u32>(q[j]) >> vec4<u32>(16u, 20u, 24u, 28u)) & vec4<u32>(15u));
    s += dot(lo, xs[2u * j]) + dot(hi, xs[2u * j + 1u]);
  }
  return (s - 8.0 * xsum) * scale_at(which, blk);
#endif
#if W_Q8
  let blk = row * u.NB + un;
  let qa = wv_at(which, 2u * blk);
  let qb = wv_at(which, 2u * blk + 1u);
  var s = 0.0;
  for (var j = 0u; j < 4u; j++) {
    let a = bitcast<vec4<i32>>(vec4<u32>(qa[j]) << vec4<u32>(24u, 16u, 8u, 0u)) >> vec4<u32>(24u);
    let b = bitcast<vec4<i32>>(vec4<u32>(qb[j]) << vec4<u32>(24u, 16u, 8u, 0u)) >> vec4<u32>(24u);
    s += dot(vec4<f32>(a), xs[j]) + dot(vec4<f32>(b), xs[4u + j]);
  }
  return s * scale_at(which, blk);
#endif
#if W_VEC16
  let at = row * (u.K / 8u) + un;
#if SHADER_F16
  return dot(vec4<f32>(wh_at(which, 2u * at)), xs[0]) + dot(vec4<f32>(wh_at(which, 2u * at + 1u)), xs[1]);
#else
  let q = wv_at(which, at);
#if W_F16
  let a = vec4<f32>(unpack2x16float(q.x), unpack2x16float(q.y));
  let b = vec4<f32>(unpack2x16float(q.z), unpack2x16float(q.w));
#else
  let a = bitcast<vec4<f32>>(vec4<u32>(q.x << 16u, q.x & 0xffff0000u, q.y << 16u, q.y & 0xffff0000u));
  let b = bitcast<vec4<f32>>(vec4<u32>(q.z << 16u, q.z & 0xffff0000u, q.w << 16u, q.w & 0xffff0000u));
#endif
  return dot(a, xs[0]) + dot(b, xs[1]);
#endif
#endif
#if W_VEC32
  return dot(bitcast<vec4<f32>>(wv_at(which, row * (u.K / 4u) + un)), xs[0]);
#endif
#if ELEMENTWISE
  let k = 4u * un;
  var v = vec4<f32>(0.0);
  for (var j = 0u; j < 4u; j++) { v[j] = select(0.0, w_elem(row, min(k + j, u.K - 1u)), k + j < u.K); }
  return dot(v, xs[0]);
#endif
}

// Values reduced per workgroup: DOTS dot products (ROWS, or ROWS gate + ROWS up with GLU), then Σx²
// with the norm prologue.
#if GLU
const DOTS: u32 = 2u * ROWS;
#else
const DOTS: u32 = ROWS;
#endif
#if NORM
const NV: u32 = DOTS + 1u;
#else
const NV: u32 = DOTS;
#endif
#if SUBGROUPS
var<workgroup> red: array<f32, NV * WG>; // one slot per (subgroup, value); WG slots bound any subgroup size
#else
const SEG: u32 = 8u;                        // slots each lane sums in the second pass
var<workgroup> red: array<f32, NV * WG>;    // [value][lane]
var<workgroup> red2: array<f32, NV * WG / SEG>;
#endif

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) tid: u32,
#if SUBGROUPS
  @builtin(subgroup_size) sg_size: u32,
  @builtin(subgroup_invocation_id) sg_lane: u32,
#endif
) {
  let group = wid.y * nwg.x + wid.x;
  var wrow = 0u;        // the first weight row of this workgroup's expert (EXPERT_ROWS)
  var yoff = u.Y_OFF;
#if EXPERT_ROWS
  let aslot = group / u.GPS; // the router's slot a
  if (aslot >= u.A) { return; } // padding workgroups: uniform per workgroup
  let e = ids[aslot];
  if (e < u.E0 || e >= u.E0 + u.EN) { return; } // the expert lives in another part
  wrow = (e - u.E0) * u.N;
  yoff += aslot * u.N;
  let b = 0u;
  let row0 = (group % u.GPS) * ROWS;
  let rows = u.N;
#else
#if PAIR
  let b = select(0u, 1u, group >= u.G1); // which weight this workgroup's rows come from
  let row0 = (group - b * u.G1) * ROWS;
  let rows = select(u.N, u.N2, b == 1u);
#else
  let b = 0u;
  let row0 = group * ROWS;
  let rows = u.N;
#endif
#endif
  if (row0 >= rows) { return; } // padding workgroups of a 2-D grid: uniform per workgroup

  var acc: array<f32, NV>; // [DOTS dot products, Σx²]
  let units = units_per_row();
#if SLOT_SUM
  for (var a = 0u; a < u.A; a++) {
    let e = ids[a];
    if (e < u.E0 || e >= u.E0 + u.EN) { continue; } // uniform: every lane reads the same id
    let wa = wts[a];
    wrow = (e - u.E0) * u.N;
    xoff = a * u.K;
#else
  {
    let wa = 1.0;
#endif
  for (var un = tid; un < units; un += WG) {
    xsum = 0.0;
    for (var j = 0u; j < XV; j++) {
      var v = load4(un * XV + j);
#if NORM
      acc[DOTS] += dot(v, v);
      v *= load_nw4(un * XV + j);
#endif
      xs[j] = v;
      xsum += v.x + v.y + v.z + v.w;
    }
    for (var r = 0u; r < ROWS; r++) {
      // Rows past N (the last workgroup) recompute row N − 1; their result is never written.
      let row = min(row0 + r, rows - 1u);
      acc[r] += wa * unit_dot(b, wrow + row, un);
#if GLU
      acc[ROWS + r] += unit_dot(1u, wrow + row, un);
#endif
    }
  }
  }

#if SUBGROUPS
  let slot = tid / sg_size;
  let subgroups = max(1u, WG / sg_size);
  for (var v = 0u; v < NV; v++) {
    let t = subgroupAdd(acc[v]);
    if (sg_lane == 0u) { red[slot * NV + v] = t; }
  }
  workgroupBarrier();
  if (tid >= ROWS) { return; }
  var total = vec3<f32>(0.0); // (dot, Σx², GLU's up dot)
  for (var s = 0u; s < subgroups; s++) {
    total.x += red[s * NV + tid];
#if NORM
    total.y += red[s * NV + DOTS];
#endif
#if GLU
    total.z += red[s * NV + ROWS + tid];
#endif
  }
#else
  for (var v = 0u; v < NV; v++) { red[v * WG + tid] = acc[v]; }
  workgroupBarrier();
  for (var i = tid; i < NV * WG / SEG; i += WG) {
    var s = 0.0;
    for (var j = 0u; j < SEG; j++) { s += red[i * SEG + j]; }
    red2[i] = s;
  }
  workgroupBarrier();
  if (tid >= ROWS) { return; }
  var total = vec3<f32>(0.0);
  for (var s = 0u; s < WG / SEG; s++) {
    total.x += red2[tid * (WG / SEG) + s];
#if NORM
    total.y += red2[DOTS * (WG / SEG) + s];
#endif
#if GLU
    total.z += red2[(ROWS + tid) * (WG / SEG) + s];
#endif
  }
#endif

  let n = row0 + tid;
  if (n >= rows) { return; }
  var scale = 1.0;
#if NORM
  scale = inverseSqrt(total.y / f32(u.K) + u.EPS);
#endif
  var r = total.x * scale;
#if GLU
  r = r / (1.0 + exp(-r)) * (total.z * scale); // silu(gate) · up, as elementwise.wgsl's OP_SILU_MUL
#endif
#if PAIR
  if (b == 1u) {
    y2[u.Y_OFF2 + n] = r;
    return;
  }
#endif
#if HAS_BIAS
  r += bias[u.Y_OFF + n];
#endif
#if RESIDUAL
  r += residual[u.Y_OFF + n];
#endif
  y[yoff + n] = r;
}
