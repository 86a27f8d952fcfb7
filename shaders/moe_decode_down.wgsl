// MoE decode, step 2 of 2 (T = 1): down GEMVs of every active expert, weighted, summed, plus the residual.
//   out[d] = res[d] + Σ_a wts[a] · Wd_{ids[a]}[d, :] · act[a·I ..]  +  Wsd[d, :] · act[A·I .. A·I + IS]
// wts already carry norm_topk_prob and routed_scaling_factor (moe_route.wgsl). Deterministic: one workgroup
// owns ROWS output rows and loops over the A routed slots and the shared block in a fixed order (no atomics).
// Dispatch: x = tile of ROWS output rows; WG lanes walk the chunks of each row (common/moe_decode_rows.wgsl),
// each activation chunk loaded once per slot and reused for the ROWS rows; subgroupAdd or one
// workgroup-memory pass at the end.
// Parts: rd holds experts E0 .. E0+EN ([EN·D, I]; other experts add nothing here), sd holds output rows
// S0 .. S0+SN of the shared down ([SN, IS]). The wrapper issues one dispatch per part pair; the first writes
// res + its terms, each later one (ACCUM = 1) adds its terms to out in the same fixed order.
#if SUBGROUPS
enable subgroups;
#endif
const ROWS: u32 = 4u;
override WG: u32 = 64;
override RED: u32 = 64;  // ROWS · WG / 4 with subgroups, ROWS · WG without

@group(0) @binding(1) var<storage, read> act: array<f32>;          // [A·I + IS] from moe_decode_gate_up
@group(0) @binding(2) var<storage, read> ids: array<u32>;          // [A]
@group(0) @binding(3) var<storage, read> wts: array<f32>;          // [A]
#if VEC4
@group(0) @binding(4) var<storage, read> rd: array<vec4<u32>>;     // routed down part [EN·D, I] (W_* form)
@group(0) @binding(5) var<storage, read> sd: array<vec4<u32>>;     // shared down part [SN, IS]
#else
@group(0) @binding(4) var<storage, read> rd: array<u32>;
@group(0) @binding(5) var<storage, read> sd: array<u32>;
#endif
@group(0) @binding(6) var<storage, read> res: array<f32>;          // [D] residual stream
@group(0) @binding(7) var<storage, read_write> out: array<f32>;    // [D]

fn xin(i: u32) -> f32 { return act[i]; }

#if VEC4
fn wq(b: u32, i: u32) -> vec4<u32> {
  if (b == 0u) { return rd[i]; }
  return sd[i];
}
fn ww(b: u32, i: u32) -> u32 { return wq(b, i >> 2u)[i & 3u]; }
#else
fn ww(b: u32, i: u32) -> u32 {
  if (b == 0u) { return rd[i]; }
  return sd[i];
}
fn wq(b: u32, i: u32) -> vec4<u32> {
  let o = 4u * i;
  return vec4<u32>(ww(b, o), ww(b, o + 1u), ww(b, o + 2u), ww(b, o + 3u));
}
#endif

#include "common/moe_decode_rows.wgsl"

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
  let d0 = wid.x * ROWS;
  var acc: array<f32, ROWS>;
  let ncr = chunks_per_row(u.I, u.R_NB);
  for (var a = 0u; a < u.A; a++) {
    let e = ids[a];
    if (e >= u.E0 && e - u.E0 < u.EN) {
      let row0 = (e - u.E0) * u.D + d0;
      var part: array<f32, ROWS>;
      for (var c = lid; c < ncr; c += WG) {
        let xv = load_x(a * u.I, c, u.I);
        let xs = x_sum(xv);
        for (var r = 0u; r < ROWS; r++) {
          if (d0 + r < u.D) { part[r] += chunk_dot(0u, row0 + r, c, u.I, u.R_NB, u.R_SOFF, xv, xs); }
        }
      }
      let wa = wts[a];
      for (var r = 0u; r < ROWS; r++) { acc[r] += wa * part[r]; }
    }
  }
  if (u.SN > 0u) {
    let ncs = chunks_per_row(u.IS, u.S_NB);
    for (var c = lid; c < ncs; c += WG) {
      let xv = load_x(u.A * u.I, c, u.IS);
      let xs = x_sum(xv);
      for (var r = 0u; r < ROWS; r++) {
        let d = d0 + r;
        if (d < u.D && d >= u.S0 && d - u.S0 < u.SN) {
          acc[r] += chunk_dot(1u, d - u.S0, c, u.IS, u.S_NB, u.S_SOFF, xv, xs);
        }
      }
    }
  }

  var total = 0.0;
#if SUBGROUPS
  let nsg = (WG + ss - 1u) / ss;
  for (var r = 0u; r < ROWS; r++) {
    let v = subgroupAdd(acc[r]);
    if (sl == 0u) { red[(lid / ss) * ROWS + r] = v; }
  }
  workgroupBarrier();
  if (lid < ROWS) {
    for (var s = 0u; s < nsg; s++) { total += red[s * ROWS + lid]; }
  }
#else
  for (var r = 0u; r < ROWS; r++) { red[r * WG + lid] = acc[r]; }
  workgroupBarrier();
  if (lid < ROWS) {
    for (var l = 0u; l < WG; l++) { total += red[lid * WG + l]; }
  }
#endif
  let d = d0 + lid;
  if (lid < ROWS && d < u.D) {
    let before = select(res[d], out[d], u.ACCUM != 0u);
    out[d] = before + total;
  }
}
