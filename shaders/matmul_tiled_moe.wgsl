// One tile of the grouped expert GEMM (routed experts at T > 1): for the ≤ BM slots of one expert e that
// moe_experts_group listed (order[start ..], TM = BM), gathered as the rows of the tiled GEMM
// (common/matmul_tiled_core.wgsl),
//   out[s, n] = Σ_k in(s, k) · w[e·NOUT + n, k]      (w = stacked experts [E, NOUT, K], any W_* form)
// in(s, ·) is x[s / A] (gate/up: every slot of a token reads the token's row), or with SWIGLU_IN
// silu(g[s]) · up[s] (the down projection, the activation fused into the staging load).
// Each weight element is read and dequantised once per tile of up to BM tokens (the rows kernel: ≤ 16).
// Dispatch: x = column block of BN outputs, y = tile index; tiles with count 0 exit at once.
// An expert stack in parts (expert ranges) takes one dispatch per part: w holds experts E0 .. E0+EN only,
// expert e is its local row block e − E0, and tiles of other experts exit at once (one part: 0 and E).
@group(0) @binding(1) var<storage, read> xin: array<f32>;           // [T, K] (or g [S, K] with SWIGLU_IN)
#if SWIGLU_IN
@group(0) @binding(2) var<storage, read> upin: array<f32>;          // [S, K]
@group(0) @binding(3) var<storage, read> w: array<u32>;             // [EN·NOUT, K]: experts E0 .. E0+EN
@group(0) @binding(4) var<storage, read> order: array<u32>;         // [S]
@group(0) @binding(5) var<storage, read> tiles: array<u32>;         // [MAX_TILES, 3]
@group(0) @binding(6) var<storage, read_write> out: array<f32>;     // [S, NOUT]
#else
@group(0) @binding(2) var<storage, read> w: array<u32>;             // [EN·NOUT, K]: experts E0 .. E0+EN
@group(0) @binding(3) var<storage, read> order: array<u32>;         // [S]
@group(0) @binding(4) var<storage, read> tiles: array<u32>;         // [MAX_TILES, 3]
@group(0) @binding(5) var<storage, read_write> out: array<f32>;     // [S, NOUT]
#endif

#include "common/weights.wgsl"
#include "common/matmul_tiled_core.wgsl"

const BM_MAX: u32 = 128u;
var<workgroup> tileCount: u32;
var<workgroup> slots: array<u32, BM_MAX>;  // [BM] the tile's slots s = t·A + a
var<private> count: u32;     // slots in this tile (≤ BM)
var<private> rowBase: u32;   // e · NOUT: the expert's first weight row in this part
var<private> n0: u32;        // first output column of this workgroup

fn in_elem(s: u32, k: u32) -> f32 {
#if SWIGLU_IN
  let g = xin[s * u.K + k];
  return g / (1.0 + exp(-g)) * upin[s * u.K + k];
#else
  return xin[(s / u.A) * u.K + k];
#endif
}

fn tile_x4(r: u32, k: u32) -> vec4<f32> {
  if (r >= count || k >= u.K) { return vec4<f32>(0.0); }
  let s = slots[r];
  let last = u.K - 1u;
  return vec4<f32>(
    in_elem(s, k),
    select(0.0, in_elem(s, min(k + 1u, last)), k + 1u < u.K),
    select(0.0, in_elem(s, min(k + 2u, last)), k + 2u < u.K),
    select(0.0, in_elem(s, min(k + 3u, last)), k + 3u < u.K),
  );
}

fn tile_w4(c: u32, k: u32) -> vec4<f32> {
  let n = n0 + c;
  if (n >= u.NOUT) { return vec4<f32>(0.0); }
  return w_quad(rowBase + n, k);
}

@compute @workgroup_size(LANES)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) tid: u32) {
  let tile = wid.y;
  if (tid == 0u) {
    let te = tiles[3u * tile];
    tileCount = select(0u, tiles[3u * tile + 2u], te >= u.E0 && te - u.E0 < u.EN);
  }
  let cnt = workgroupUniformLoad(&tileCount);  // uniform, so the early exit keeps the barriers uniform
  if (cnt == 0u) { return; }
  count = cnt;
  let start = tiles[3u * tile + 1u];
  rowBase = (tiles[3u * tile] - u.E0) * u.NOUT;
  n0 = wid.x * BN;
  for (var i = tid; i < BM; i += LANES) { slots[i] = select(0u, order[start + i], i < count); }
  workgroupBarrier();
  gemm_tile(tid);
  for (var i = 0u; i < MV; i++) {
    for (var r = 0u; r < 4u; r++) {
      let m = lane_row(tid, i) + r;
      if (m >= count) { continue; }
      let s = slots[m];
      for (var j = 0u; j < NV; j++) {
        let n = n0 + lane_col(tid, j);
        let v = acc_block(i, j)[r];
        for (var c = 0u; c < 4u; c++) {
          if (n + c < u.NOUT) { out[s * u.NOUT + n + c] = v[c]; }
        }
      }
    }
  }
}
