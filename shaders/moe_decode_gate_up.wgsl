// MoE decode, step 1 of 2 (T = 1): gate and up GEMVs of every active expert, SiLU·mul in the epilogue.
//   act[s·I + i] = silu(g) · u,  g = Wg_e[i, :] · x,  u = Wu_e[i, :] · x
// Slots s < A are the routed experts e = ids[s], read from the router's GPU output (ggml mul_mat_id: no
// grouping pass, no readback). Slots s ≥ A are the shared experts (width IS = n_shared · I), treated as
// extra experts: slot A + j computes shared rows j·I .. j·I + I, so act = [A·I routed | IS shared].
// Dispatch: x = tile of ROWS rows, y = slot (A + ceil(IS / I)); WG lanes per workgroup. Each lane walks
// chunks (one vec4<u32> each, common/moe_decode_rows.wgsl) of the 2·ROWS rows, the x chunk loaded once
// and reused for them; the partial dots meet through subgroupAdd (SUBGROUPS) or one workgroup-memory pass.
// Parts (src/gpu/parted_tensor.ts): rg/ru hold experts E0 .. E0+EN only (a slot whose expert lies outside
// exits at once), sg/su hold shared rows S0 .. S0+SN only (rows outside are skipped). The wrapper issues
// one dispatch per part pair, so every act element is written by exactly one dispatch.
#if SUBGROUPS
enable subgroups;
#endif
const ROWS: u32 = 4u;
const NOUT: u32 = 8u;  // 2·ROWS dots per workgroup: gate rows, then up rows
const NONE: u32 = 0xffffffffu;
override WG: u32 = 64;
override RED: u32 = 128;  // reduction slots: NOUT · WG / 4 with subgroups (≥ 4 lanes each), NOUT · WG without

@group(0) @binding(1) var<storage, read> x: array<f32>;            // [D]
@group(0) @binding(2) var<storage, read> ids: array<u32>;          // [A] routed experts of the token
#if VEC4
@group(0) @binding(3) var<storage, read> rg: array<vec4<u32>>;     // routed gate part [EN·I, D] (W_* form)
@group(0) @binding(4) var<storage, read> ru: array<vec4<u32>>;     // routed up part [EN·I, D]
@group(0) @binding(5) var<storage, read> sg: array<vec4<u32>>;     // shared gate part [SN, D]
@group(0) @binding(6) var<storage, read> su: array<vec4<u32>>;     // shared up part [SN, D]
#else
@group(0) @binding(3) var<storage, read> rg: array<u32>;
@group(0) @binding(4) var<storage, read> ru: array<u32>;
@group(0) @binding(5) var<storage, read> sg: array<u32>;
@group(0) @binding(6) var<storage, read> su: array<u32>;
#endif
@group(0) @binding(7) var<storage, read_write> act: array<f32>;    // [A·I + IS]

fn xin(i: u32) -> f32 { return x[i]; }

#if VEC4
fn wq(b: u32, i: u32) -> vec4<u32> {
  switch b {
    case 0u: { return rg[i]; }
    case 1u: { return ru[i]; }
    case 2u: { return sg[i]; }
    default: { return su[i]; }
  }
}
fn ww(b: u32, i: u32) -> u32 { return wq(b, i >> 2u)[i & 3u]; }
#else
fn ww(b: u32, i: u32) -> u32 {
  switch b {
    case 0u: { return rg[i]; }
    case 1u: { return ru[i]; }
    case 2u: { return sg[i]; }
    default: { return su[i]; }
  }
}
fn wq(b: u32, i: u32) -> vec4<u32> {
  let o = 4u * i;
  return vec4<u32>(ww(b, o), ww(b, o + 1u), ww(b, o + 2u), ww(b, o + 3u));
}
#endif

#include "common/moe_decode_rows.wgsl"

var<workgroup> slotBase: u32;
var<workgroup> red: array<f32, RED>;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
#if SUBGROUPS
  @builtin(subgroup_invocation_id) sl: u32,
  @builtin(subgroup_size) ss: u32,
#endif
) {
  let slot = wid.y;
  let i0 = wid.x * ROWS;
  // the slot's first row: local row block of its routed expert in this part, or its first shared row
  if (lid == 0u) {
    var b = NONE;
    if (slot < u.A) {
      let e = ids[slot];
      if (e >= u.E0 && e - u.E0 < u.EN) { b = (e - u.E0) * u.I; }
    } else if (u.SN > 0u) {
      b = (slot - u.A) * u.I;
    }
    slotBase = b;
  }
  let base = workgroupUniformLoad(&slotBase);
  if (base == NONE) { return; }
  let isShared = slot >= u.A;
  let bg = select(0u, 2u, isShared);  // gate buffer; up is bg + 1
  let soff = select(u.R_SOFF, u.S_SOFF, isShared);
  var rows: array<u32, ROWS>;
  var valid: array<bool, ROWS>;
  for (var r = 0u; r < ROWS; r++) {
    let i = i0 + r;
    var ok = i < u.I;
    var row = base + i;
    if (isShared) {
      ok = ok && row < u.IS && row >= u.S0 && row - u.S0 < u.SN;
      row = row - u.S0;
    }
    valid[r] = ok;
    rows[r] = select(0u, row, ok);
  }

  var acc: array<f32, NOUT>;
  let nc = chunks_per_row(u.D, u.NB);
  for (var c = lid; c < nc; c += WG) {
    let xv = load_x(0u, c, u.D);
    let xs = x_sum(xv);
    for (var r = 0u; r < ROWS; r++) {
      if (valid[r]) {
        acc[r] += chunk_dot(bg, rows[r], c, u.D, u.NB, soff, xv, xs);
        acc[ROWS + r] += chunk_dot(bg + 1u, rows[r], c, u.D, u.NB, soff, xv, xs);
      }
    }
  }

#if SUBGROUPS
  // one partial per subgroup and output (subgroups fill 1-D workgroups in local index order)
  let nsg = (WG + ss - 1u) / ss;
  for (var o = 0u; o < NOUT; o++) {
    let v = subgroupAdd(acc[o]);
    if (sl == 0u) { red[(lid / ss) * NOUT + o] = v; }
  }
  workgroupBarrier();
  if (lid < ROWS && valid[lid]) {
    var g = 0.0;
    var up = 0.0;
    for (var s = 0u; s < nsg; s++) {
      g += red[s * NOUT + lid];
      up += red[s * NOUT + ROWS + lid];
    }
    act[slot * u.I + i0 + lid] = g / (1.0 + exp(-g)) * up;
  }
#else
  for (var o = 0u; o < NOUT; o++) { red[o * WG + lid] = acc[o]; }
  workgroupBarrier();
  if (lid < ROWS && valid[lid]) {
    var g = 0.0;
    var up = 0.0;
    for (var l = 0u; l < WG; l++) {
      g += red[lid * WG + l];
      up += red[(ROWS + lid) * WG + l];
    }
    act[slot * u.I + i0 + lid] = g / (1.0 + exp(-g)) * up;
  }
#endif
}
